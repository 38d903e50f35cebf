import type { BrokerReport } from "@thopter/protocol";
import { describe, expect, it } from "vitest";
import { brokerStatus, collectorFixture, now, status } from "./collector-fixtures.js";

const c = collectorFixture();

describe("collector", () => {
  it("takes an observer's status, moves the thopter's state, and keeps the report on its timeline", async () => {
    const t = await c.addThopter("t1");
    const res = await c.post("/v1/status", t.status, status({ event: "SessionStart" }));
    expect(res).toEqual({ status: 200, body: { ok: true, state: "working", duplicate: false, followUps: [] } });
    const record = c.hub.registry.get("t1")!;
    expect(record.lastReportAt).toBeDefined();
    expect(record.timeline.at(-1)).toMatchObject({ source: "observer", kind: "SessionStart", state: "working" });

    const waiting = await c.post(
      "/v1/status",
      t.status,
      status({ state: "waiting", event: "Notification", reason: "permission" }),
    );
    expect(waiting.body.state).toBe("waiting");
  });

  it("keeps heartbeats off the timeline unless they change the state, but notes when the thopter was last heard", async () => {
    const t = await c.addThopter("t1", "working");
    const length = c.hub.registry.get("t1")!.timeline.length;
    const heartbeat = status({ event: "heartbeat", reason: "heartbeat" });
    for (let i = 0; i < 5; i++) expect((await c.post("/v1/status", t.status, heartbeat)).status).toBe(200);
    expect(c.hub.registry.get("t1")!.timeline).toHaveLength(length);
    expect(c.hub.registry.get("t1")!.lastReportAt).toBeDefined();

    await c.hub.registry.transition("t1", "waiting", "Notification");
    await c.post("/v1/status", t.status, heartbeat);
    expect(c.hub.registry.get("t1")).toMatchObject({ state: "working" });
    expect(c.hub.registry.get("t1")!.timeline.at(-1)).toMatchObject({ kind: "heartbeat", state: "working" });
  });

  it("has the state change in the store before it answers", async () => {
    const t = await c.addThopter("t1");
    await c.post("/v1/status", t.status, status());
    expect((await c.restartedView("t1"))?.state).toBe("working");
  });

  it("moves to done on the broker's report_status, with its summary and pull request", async () => {
    const t = await c.addThopter("t1", "working");
    const res = await c.post("/v1/reports", t.broker, brokerStatus("k1", "done", "Fixed the spinner"));
    expect(res.body).toMatchObject({ state: "done", duplicate: false });
    expect(c.hub.registry.get("t1")).toMatchObject({
      state: "done",
      summary: "Fixed the spinner",
      pullRequestUrl: "https://github.test/acme/widgets/pull/4",
    });
  });

  it("moves to blocked or waiting on report_status blocked or needs_input", async () => {
    const t = await c.addThopter("t1", "working");
    const u = await c.addThopter("t2", "working");
    const blocked = await c.post("/v1/reports", t.broker, brokerStatus("k1", "blocked", "no access"));
    expect(blocked.body.state).toBe("blocked");
    const asks = await c.post("/v1/reports", u.broker, brokerStatus("k1", "needs_input", "which colour?"));
    expect(asks.body.state).toBe("waiting");
    expect(c.hub.registry.get("t2")?.stateReason).toBe("report_status needs_input");
  });

  it("does not let the hooks that fire after report_status(done) undo it; a new prompt does", async () => {
    const t = await c.addThopter("t1", "working");
    await c.post("/v1/reports", t.broker, brokerStatus("k1", "done"));
    await c.post("/v1/status", t.status, status({ event: "PostToolUse", detail: "mcp__thopter__report_status" }));
    await c.post("/v1/status", t.status, status({ state: "waiting", event: "Stop", reason: "idle" }));
    expect(c.hub.registry.get("t1")?.state).toBe("done");
    const revived = await c.post("/v1/status", t.status, status({ event: "UserPromptSubmit" }));
    expect(revived.body.state).toBe("working");
  });

  it("records audit reports on the timeline without changing state", async () => {
    const t = await c.addThopter("t1", "working");
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
    const res = await c.post("/v1/reports", t.broker, audit);
    expect(res.body.state).toBe("working");
    expect(c.hub.registry.get("t1")?.timeline.at(-1)).toMatchObject({ kind: "tool:push_branch", state: "refused" });
    // A refused push leaves no branch on GitHub; a successful one notes when (the dashboard links the branch then).
    expect(c.hub.registry.get("t1")?.pushedAt).toBeUndefined();
    const pushed = {
      ...audit,
      idempotencyKey: "a2",
      body: { ...audit.body, outcome: "ok" as const, message: "pushed" },
    };
    await c.post("/v1/reports", t.broker, pushed);
    expect(c.hub.registry.get("t1")?.pushedAt).toBe(pushed.at);
  });

  it("keeps the thopter's usage report beside the proxy's, never letting an older report take it back", async () => {
    const t = await c.addThopter("t1", "working");
    const counts = (input: number) => ({ "claude-sonnet-4-5": { input, output: 2, cacheRead: 3, cacheWrite: 4 } });
    const proxy: BrokerReport = { idempotencyKey: "u1", at: now(), body: { kind: "usage", models: counts(50) } };
    await c.post("/v1/reports", t.broker, proxy);
    const later = "2030-01-01T00:00:02.000Z";
    await c.post(
      "/v1/status",
      t.status,
      status({ event: "heartbeat", reason: "heartbeat", at: later, usage: counts(10) }),
    );
    expect(c.hub.registry.get("t1")?.usage).toEqual({
      proxy: { models: counts(50), at: proxy.at },
      transcript: { models: counts(10), at: later },
    });
    // A report spooled while the hub was away arrives after a newer one: its smaller totals are not news.
    await c.post("/v1/status", t.status, status({ at: "2030-01-01T00:00:01.000Z", usage: counts(5) }));
    expect(c.hub.registry.get("t1")?.usage?.transcript).toEqual({ models: counts(10), at: later });
    // Kept with the record at the registry's checkpoint (a lost one is restored by the next cumulative report).
    await c.hub.registry.checkpoint();
    expect((await c.restartedView("t1"))?.usage?.transcript?.models).toEqual(counts(10));
  });

  it("counts a retried broker report once, also after the hub restarts", async () => {
    const t = await c.addThopter("t1", "working");
    const report = brokerStatus("outbox-17", "done");
    expect((await c.post("/v1/reports", t.broker, report)).body.duplicate).toBe(false);
    expect((await c.post("/v1/reports", t.broker, report)).body.duplicate).toBe(true);

    await c.restart();
    expect((await c.post("/v1/reports", t.broker, report)).body).toMatchObject({ duplicate: true, state: "done" });
    const entries = c.hub.registry.get("t1")!.timeline.filter((e) => e.kind === "report_status");
    expect(entries).toHaveLength(1);
  });

  it("answers 503 and does not claim success when the store cannot take a state change", async () => {
    const t = await c.addThopter("t1");
    const put = c.hub.store.put.bind(c.hub.store);
    c.hub.store.put = async () => {
      throw new Error("disk full");
    };
    const res = await c.post("/v1/status", t.status, status());
    expect(res.status).toBe(503);
    expect(res.body.error).toMatch(/retry/);

    // The observer retries once the store is back: now it is accepted, and durable before the answer.
    c.hub.store.put = put;
    expect((await c.post("/v1/status", t.status, status())).status).toBe(200);
    expect((await c.restartedView("t1"))?.state).toBe("working");
  });
});
