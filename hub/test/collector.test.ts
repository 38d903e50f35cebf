import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrokerReport, StatusReport, ThopterRecord } from "@thopter/protocol";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startCollector, type ThopterTokens, TokenStore } from "../src/collector/index.js";
import { Registry } from "../src/registry/index.js";
import { openStore } from "../src/store/index.js";
import type { Store } from "../src/store/store.js";

const log = pino({ level: "silent" });

interface Hub {
  store: Store;
  registry: Registry;
  tokens: TokenStore;
  url: string;
  close(): Promise<void>;
}

let dir: string;
let hub: Hub;

/** A hub's collector side on a store; a second call on the same store is the hub after a restart. */
async function startHub(store: Store): Promise<Hub> {
  const registry = await Registry.open(store, log, { checkpointMs: 60_000 });
  const tokens = await TokenStore.open(store);
  const collector = await startCollector({
    registry,
    tokens,
    log,
    host: "127.0.0.1",
    port: 0,
    maxBodyBytes: 64 * 1024,
  });
  return {
    store,
    registry,
    tokens,
    url: collector.url,
    close: async () => {
      await collector.close();
      await registry.close();
    },
  };
}

async function addThopter(id: string, state: ThopterRecord["state"] = "booting"): Promise<ThopterTokens> {
  await hub.registry.create({
    id,
    requestId: "r1",
    repo: "acme/widgets",
    issueNumber: 3,
    issueTitle: "t",
    branch: `thopter/3--${id}`,
    gc: "default",
    prompt: "default",
    state,
    machine: { provider: "local", id: `m-${id}` },
  });
  return hub.tokens.mint(id);
}

/** A thopter as a hub restarted right now (after a kill -9) would see it. Never closed: it must not write. */
async function restartedView(id: string) {
  return (await Registry.open(hub.store, log, { checkpointMs: 3_600_000 })).get(id);
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "collector-"));
  hub = await startHub(await openStore(`file:${dir}`));
});
afterEach(async () => {
  await hub.close();
  await hub.store.close();
  rmSync(dir, { recursive: true, force: true });
});

const now = () => new Date().toISOString();
const status = (over: Partial<StatusReport> = {}): StatusReport => ({
  state: "working",
  event: "PreToolUse",
  detail: "Bash",
  at: now(),
  ...over,
});
const brokerStatus = (key: string, state: "working" | "done" | "blocked" | "needs_input", summary = "did it") =>
  ({
    idempotencyKey: key,
    at: now(),
    body: { kind: "status", state, summary, pullRequestUrl: "https://github.test/acme/widgets/pull/4" },
  }) satisfies BrokerReport;

async function post(path: string, token: string | undefined, body: unknown) {
  const res = await fetch(hub.url + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { error?: string; state?: string; duplicate?: boolean } };
}

describe("collector", () => {
  it("takes an observer's status, moves the thopter's state, and keeps the report on its timeline", async () => {
    const t = await addThopter("t1");
    const res = await post("/v1/status", t.status, status({ event: "SessionStart" }));
    expect(res).toEqual({ status: 200, body: { ok: true, state: "working", duplicate: false } });
    const record = hub.registry.get("t1")!;
    expect(record.lastReportAt).toBeDefined();
    expect(record.timeline.at(-1)).toMatchObject({ source: "observer", kind: "SessionStart", state: "working" });

    const waiting = await post(
      "/v1/status",
      t.status,
      status({ state: "waiting", event: "Notification", reason: "permission" }),
    );
    expect(waiting.body.state).toBe("waiting");
  });

  it("keeps heartbeats off the timeline unless they change the state, but notes when the thopter was last heard", async () => {
    const t = await addThopter("t1", "working");
    const length = hub.registry.get("t1")!.timeline.length;
    const heartbeat = status({ event: "heartbeat", reason: "heartbeat" });
    for (let i = 0; i < 5; i++) expect((await post("/v1/status", t.status, heartbeat)).status).toBe(200);
    expect(hub.registry.get("t1")!.timeline).toHaveLength(length);
    expect(hub.registry.get("t1")!.lastReportAt).toBeDefined();

    await hub.registry.transition("t1", "waiting", "Notification");
    await post("/v1/status", t.status, heartbeat);
    expect(hub.registry.get("t1")).toMatchObject({ state: "working" });
    expect(hub.registry.get("t1")!.timeline.at(-1)).toMatchObject({ kind: "heartbeat", state: "working" });
  });

  it("has the state change in the store before it answers", async () => {
    const t = await addThopter("t1");
    await post("/v1/status", t.status, status());
    expect((await restartedView("t1"))?.state).toBe("working");
  });

  it("moves to done on the broker's report_status, with its summary and pull request", async () => {
    const t = await addThopter("t1", "working");
    const res = await post("/v1/reports", t.broker, brokerStatus("k1", "done", "Fixed the spinner"));
    expect(res.body).toMatchObject({ state: "done", duplicate: false });
    expect(hub.registry.get("t1")).toMatchObject({
      state: "done",
      summary: "Fixed the spinner",
      pullRequestUrl: "https://github.test/acme/widgets/pull/4",
    });
  });

  it("moves to blocked or waiting on report_status blocked or needs_input", async () => {
    const t = await addThopter("t1", "working");
    const u = await addThopter("t2", "working");
    const blocked = await post("/v1/reports", t.broker, brokerStatus("k1", "blocked", "no access"));
    expect(blocked.body.state).toBe("blocked");
    const asks = await post("/v1/reports", u.broker, brokerStatus("k1", "needs_input", "which colour?"));
    expect(asks.body.state).toBe("waiting");
    expect(hub.registry.get("t2")?.stateReason).toBe("report_status needs_input");
  });

  it("does not let the hooks that fire after report_status(done) undo it; a new prompt does", async () => {
    const t = await addThopter("t1", "working");
    await post("/v1/reports", t.broker, brokerStatus("k1", "done"));
    await post("/v1/status", t.status, status({ event: "PostToolUse", detail: "mcp__thopter__report_status" }));
    await post("/v1/status", t.status, status({ state: "waiting", event: "Stop", reason: "idle" }));
    expect(hub.registry.get("t1")?.state).toBe("done");
    const revived = await post("/v1/status", t.status, status({ event: "UserPromptSubmit" }));
    expect(revived.body.state).toBe("working");
  });

  it("records audit reports on the timeline without changing state", async () => {
    const t = await addThopter("t1", "working");
    const audit: BrokerReport = {
      idempotencyKey: "a1",
      at: now(),
      body: {
        kind: "audit",
        tool: "push_branch",
        args: { force: false },
        outcome: "refused",
        message: "no commits",
        durationMs: 12,
      },
    };
    const res = await post("/v1/reports", t.broker, audit);
    expect(res.body.state).toBe("working");
    expect(hub.registry.get("t1")?.timeline.at(-1)).toMatchObject({ kind: "tool:push_branch", state: "refused" });
    // A refused push leaves no branch on GitHub; a successful one notes when (the dashboard links the branch then).
    expect(hub.registry.get("t1")?.pushedAt).toBeUndefined();
    const pushed = {
      ...audit,
      idempotencyKey: "a2",
      body: { ...audit.body, outcome: "ok" as const, message: "pushed" },
    };
    await post("/v1/reports", t.broker, pushed);
    expect(hub.registry.get("t1")?.pushedAt).toBe(pushed.at);
  });

  it("counts a retried broker report once, also after the hub restarts", async () => {
    const t = await addThopter("t1", "working");
    const report = brokerStatus("outbox-17", "done");
    expect((await post("/v1/reports", t.broker, report)).body.duplicate).toBe(false);
    expect((await post("/v1/reports", t.broker, report)).body.duplicate).toBe(true);

    await hub.close();
    hub = await startHub(hub.store);
    expect((await post("/v1/reports", t.broker, report)).body).toMatchObject({ duplicate: true, state: "done" });
    const entries = hub.registry.get("t1")!.timeline.filter((e) => e.kind === "report_status");
    expect(entries).toHaveLength(1);
  });

  describe("refuses", () => {
    it("requests without a valid token for the endpoint's role (401, with the reason)", async () => {
      const t = await addThopter("t1");
      const other = await addThopter("t2");
      const forged = t.status.replace(/.{4}$/, "AAAA");
      const otherThopterSecret = t.status.replace("t1", "t2");
      const cases: Array<[string, string | undefined, unknown]> = [
        ["/v1/status", undefined, status()],
        ["/v1/status", "not-a-token", status()],
        ["/v1/status", forged, status()],
        ["/v1/status", otherThopterSecret, status()],
        ["/v1/status", t.broker, status()], // a broker token cannot post status
        ["/v1/reports", t.status, brokerStatus("k", "done")], // a status token cannot post reports
        ["/v1/reports", other.status, brokerStatus("k", "done")],
      ];
      for (const [path, token, body] of cases) {
        const res = await post(path, token, body);
        expect(res.status, `${path} with ${token}`).toBe(401);
        expect(res.body.error).toMatch(/token/);
      }
      expect(hub.registry.get("t1")?.state).toBe("booting");
      expect(hub.registry.get("t1")?.timeline).toHaveLength(1);
    });

    it("tokens that were revoked, or belong to a thopter that is gone", async () => {
      const t = await addThopter("t1");
      const u = await addThopter("t2");
      await hub.tokens.revoke("t1");
      expect((await post("/v1/status", t.status, status())).status).toBe(401);
      await hub.registry.transition("t2", "gone", "destroyed");
      const res = await post("/v1/status", u.status, status());
      expect(res).toMatchObject({ status: 401, body: { error: "thopter t2 is gone" } });
    });

    it("tokens minted before a restart still work after it; plain tokens are never stored", async () => {
      const t = await addThopter("t1");
      await hub.close();
      hub = await startHub(hub.store);
      expect((await post("/v1/status", t.status, status())).status).toBe(200);
      const raw = JSON.stringify(await hub.store.list("tokens/"));
      expect(raw).not.toContain(t.status.split(".")[2]);
      expect(raw).not.toContain(t.broker.split(".")[2]);
    });

    it("malformed and invalid bodies (400, naming what is wrong)", async () => {
      const t = await addThopter("t1");
      const notJson = await post("/v1/status", t.status, "{state: working");
      expect(notJson.status).toBe(400);
      expect(notJson.body.error).toMatch(/not JSON/);

      const badState = await post("/v1/status", t.status, status({ state: "dancing" as StatusReport["state"] }));
      expect(badState.status).toBe(400);
      expect(badState.body.error).toMatch(/^invalid report: state:/);

      const noKey = await post("/v1/reports", t.broker, {
        at: now(),
        body: { kind: "status", state: "done", summary: "" },
      });
      expect(noKey.body.error).toMatch(/idempotencyKey/);

      const badTime = await post("/v1/status", t.status, status({ at: "yesterday" }));
      expect(badTime.body.error).toMatch(/at:/);
      expect(hub.registry.get("t1")?.state).toBe("booting");
    });

    it("bodies over the limit (413), whether announced or streamed", async () => {
      const t = await addThopter("t1");
      const huge = status({ detail: "x".repeat(100_000) });
      const announced = await post("/v1/status", t.status, huge);
      expect(announced.status).toBe(413);
      expect(announced.body.error).toMatch(/larger than 65536 bytes/);

      // Chunked, so the server only finds out while reading.
      const streamed = await new Promise<number>((resolve, reject) => {
        const req = request(`${hub.url}/v1/status`, {
          method: "POST",
          headers: { authorization: `Bearer ${t.status}`, "transfer-encoding": "chunked" },
        });
        req.on("response", (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on("error", reject);
        for (let i = 0; i < 10; i++) req.write("y".repeat(10_000));
        req.end();
      });
      expect(streamed).toBe(413);
    });

    it("other paths and methods", async () => {
      const t = await addThopter("t1");
      expect((await post("/v1/admin", t.status, status())).status).toBe(404);
      const get = await fetch(`${hub.url}/v1/status`, { headers: { authorization: `Bearer ${t.status}` } });
      expect(get.status).toBe(405);
    });
  });

  it("answers 503 and does not claim success when the store cannot take a state change", async () => {
    const t = await addThopter("t1");
    const put = hub.store.put.bind(hub.store);
    hub.store.put = async () => {
      throw new Error("disk full");
    };
    const res = await post("/v1/status", t.status, status());
    expect(res.status).toBe(503);
    expect(res.body.error).toMatch(/retry/);

    // The observer retries once the store is back: now it is accepted, and durable before the answer.
    hub.store.put = put;
    expect((await post("/v1/status", t.status, status())).status).toBe(200);
    expect((await restartedView("t1"))?.state).toBe("working");
  });
});
