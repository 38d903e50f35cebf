import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Outbox } from "../src/outbox.js";

describe("outbox", () => {
  let dir: string;
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  it("persists reports before returning, and a new outbox on the same directory sends them in order", async () => {
    dir = mkdtempSync(join(tmpdir(), "outbox-"));
    const received: Array<{ key: string; auth: string | undefined; summary: string }> = [];
    let status = 503;
    server = createServer(async (req, res) => {
      let body = "";
      for await (const chunk of req) body += chunk;
      if (status === 202) {
        const report = JSON.parse(body);
        received.push({ key: report.idempotencyKey, auth: req.headers.authorization, summary: report.body.summary });
      }
      res.writeHead(status).end();
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/reports`;
    const opts = { dir, url, token: "broker-role", log: pino({ level: "silent" }), minDelayMs: 20, maxDelayMs: 50 };

    const first = new Outbox(opts);
    first.start();
    const keys = ["a", "b", "c"].map(
      (summary) => first.enqueue({ kind: "status", state: "working", summary }).idempotencyKey,
    );
    expect(readdirSync(dir).filter((f) => f.endsWith(".json"))).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 100));
    await first.stop();

    status = 202;
    const second = new Outbox(opts);
    second.enqueue({ kind: "status", state: "done", summary: "d" });
    second.start();
    for (let i = 0; i < 100 && received.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
    await second.stop();
    expect(received.map((r) => r.summary)).toEqual(["a", "b", "c", "d"]);
    expect(received.slice(0, 3).map((r) => r.key)).toEqual(keys);
    expect(received.every((r) => r.auth === "Bearer broker-role")).toBe(true);
    expect(second.pending()).toBe(0);
  });
});
