import { existsSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LOG_CHUNK_MAX_BYTES, LOG_MAX_SESSION_FILES } from "@thopter/protocol";
import { describe, expect, it } from "vitest";
import { Retention } from "../src/requests/retention.js";
import { ARCHIVE_MAX_BYTES, collectorFixture, status } from "./collector-fixtures.js";

// POST /v1/logs as thopters (and an agent holding what it can read) would call it: each thopter writes only its own
// archive, once per byte, bounded in size, and old archives of gone thopters go with the retention pass.

const c = collectorFixture();

async function chunk(token: string | undefined, file: string, offset: number | string, body: string | Buffer) {
  const url = `${c.hub.url}/v1/logs?${new URLSearchParams({ file, offset: String(offset) })}`;
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/octet-stream", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === "string" ? body : new Uint8Array(body),
  });
  return { status: res.status, body: (await res.json()) as { size?: number; capped?: boolean; error?: string } };
}

const archived = (id: string, file = "boot.log") => readFileSync(join(c.hub.archive.folder(id), file), "utf8");

describe("log archive (POST /v1/logs)", () => {
  it("keeps each byte once: a retried or overlapping chunk appends only what is new, a gap says where to resume", async () => {
    const t = await c.addThopter("t1", "working");
    expect(await chunk(t.broker, "boot", 0, "one\n")).toEqual({ status: 200, body: { size: 4, capped: false } });
    expect(await chunk(t.broker, "boot", 0, "one\n")).toEqual({ status: 200, body: { size: 4, capped: false } });
    expect(await chunk(t.broker, "boot", 0, "one\ntwo\n")).toEqual({ status: 200, body: { size: 8, capped: false } });
    expect(await chunk(t.broker, "boot", 20, "lost\n")).toEqual({ status: 409, body: { size: 8, capped: false } });
    expect(archived("t1")).toBe("one\ntwo\n");

    const session = await chunk(t.broker, "session-0b7c1f2e-aaaa", 0, '{"type":"user"}\n');
    expect(session.body.size).toBe(16);
    expect(archived("t1", "sessions/0b7c1f2e-aaaa.jsonl")).toBe('{"type":"user"}\n');
  });

  it("takes only the thopter's own root-held broker token: not the agent's status token, another's, a forged one, a gone thopter's", async () => {
    const t1 = await c.addThopter("t1", "working");
    const t2 = await c.addThopter("t2", "working");
    await chunk(t1.broker, "boot", 0, "t1's\n");
    // The status token is in the agent's hands: it cannot write the archive at all.
    expect((await chunk(t1.status, "boot", 0, "forged\n")).status).toBe(401);
    expect((await chunk(undefined, "boot", 0, "forged\n")).status).toBe(401);
    const forged = t1.broker.replace(/.{4}$/, "AAAA");
    expect((await chunk(forged, "boot", 5, "forged\n")).status).toBe(401);
    // Another thopter's token writes its own archive, whatever it sends.
    expect((await chunk(t2.broker, "boot", 5, "t2's\n")).status).toBe(409);
    expect((await chunk(t2.broker, "boot", 0, "t2's\n")).status).toBe(200);
    expect(archived("t1")).toBe("t1's\n");
    expect(archived("t2")).toBe("t2's\n");
    await c.hub.registry.transition("t1", "gone", "stopped");
    expect((await chunk(t1.broker, "boot", 5, "late\n")).status).toBe(401);
    expect(archived("t1")).toBe("t1's\n");
  });

  it("makes file names from the thopter id and a checked name only: traversal and odd names are refused", async () => {
    const t = await c.addThopter("t1", "working");
    for (const file of ["../../escape", "session-../x", "session-a/b", "session-", "boot.log", "session-a.b", ""]) {
      const res = await chunk(t.broker, file, 0, "x\n");
      expect(res.status, file).toBe(400);
      expect(res.body.error).toContain("file");
    }
    expect((await chunk(t.broker, "boot", -1, "x\n")).status).toBe(400);
    expect((await chunk(t.broker, "boot", "1e3", "x\n")).status).toBe(409);
    expect(existsSync(c.hub.archive.folder("t1"))).toBe(false);
  });

  it("never follows a link planted in the archive folder", async () => {
    const t = await c.addThopter("t1", "working");
    await chunk(t.broker, "session-a", 0, "a\n");
    const target = join(c.hub.archive.folder("t1"), "..", "target");
    writeFileSync(target, "untouched\n");
    symlinkSync(target, join(c.hub.archive.sessionsFolder("t1"), "b.jsonl"));
    expect((await chunk(t.broker, "session-b", 0, "x\n")).status).toBe(503);
    expect(readFileSync(target, "utf8")).toBe("untouched\n");
  });

  it("refuses a chunk over the limit and more transcripts than allowed", async () => {
    const t = await c.addThopter("t1", "working");
    const big = await chunk(t.broker, "boot", 0, Buffer.alloc(LOG_CHUNK_MAX_BYTES + 1, 0x61));
    expect(big.status).toBe(413);
    for (let i = 0; i < LOG_MAX_SESSION_FILES; i++) {
      // Kept under the rate (a burst of 40, then 10/s): this is about the file count.
      if (i % 30 === 29) await new Promise((r) => setTimeout(r, 3_000));
      expect((await chunk(t.broker, `session-s${i}`, 0, "x\n")).status).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 1_000));
    const more = await chunk(t.broker, "session-one-more", 0, "x\n");
    expect(more.status).toBe(413);
    expect(more.body.error).toContain(`${LOG_MAX_SESSION_FILES} transcripts`);
  }, 30_000);

  it("stops at the cap under a flood: the archive stays bounded, says so, and the hub keeps answering others", async () => {
    const t = await c.addThopter("t1", "working");
    const other = await c.addThopter("t2", "working");
    const line = Buffer.alloc(LOG_CHUNK_MAX_BYTES, 0x62);
    line[line.length - 1] = 0x0a;
    let offset = 0;
    let capped = false;
    const started = Date.now();
    while (!capped && Date.now() - started < 20_000) {
      const res = await chunk(t.broker, "session-flood", offset, line);
      expect(res.status).toBe(200);
      offset = res.body.size!;
      capped = res.body.capped!;
      // Another thopter's status goes through meanwhile.
      expect((await c.post("/v1/status", other.status, status())).status).toBe(200);
    }
    expect(capped).toBe(true);
    const files = readdirSync(c.hub.archive.sessionsFolder("t1"));
    const size = readFileSync(join(c.hub.archive.sessionsFolder("t1"), files[0]!)).length;
    expect(size).toBeLessThanOrEqual(ARCHIVE_MAX_BYTES);
    expect(size % line.length).toBe(0);
    // Nothing more is kept, of any file, and the page's note knows from when.
    expect(await chunk(t.broker, "boot", 0, "after\n")).toMatchObject({ status: 200, body: { size: 0, capped: true } });
    expect((await c.hub.archive.info("t1"))?.capped).toMatchObject({ file: "session-flood" });

    // Past a burst, a loop of chunks is answered 429 with when to retry, before its body is read.
    const answers = await Promise.all(Array.from({ length: 60 }, () => chunk(t.broker, "boot", 0, "x\n")));
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.body.error).toContain("retry after");
  }, 40_000);

  it("is removed by the retention pass once its thopter is gone and it was not written to for STORE_RETENTION_DAYS", async () => {
    const tokens = await Promise.all(["old", "recent", "live"].map((id) => c.addThopter(id, "working")));
    for (const t of tokens) expect((await chunk(t.broker, "boot", 0, "boot done\n")).status).toBe(200);
    await c.hub.registry.transition("old", "gone", "stopped");
    await c.hub.registry.transition("recent", "gone", "stopped");
    const longAgo = new Date(Date.now() - 3 * 86_400_000);
    for (const id of ["old", "live"]) utimesSync(c.hub.archive.bootLog(id), longAgo, longAgo);
    const retention = new Retention({
      store: c.hub.store,
      queue: { view: async () => new Map() } as never,
      registry: c.hub.registry,
      days: 2,
      archive: c.hub.archive,
      log: (await import("pino")).pino({ level: "silent" }),
    });
    await retention.pass();
    expect(existsSync(c.hub.archive.folder("old"))).toBe(false);
    expect(existsSync(c.hub.archive.folder("recent"))).toBe(true);
    expect(existsSync(c.hub.archive.folder("live"))).toBe(true);
    expect((await c.hub.archive.info("recent"))?.keptUntil.getTime()).toBeGreaterThan(Date.now() + 86_400_000);
  });
});
