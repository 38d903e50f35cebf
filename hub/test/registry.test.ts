import type { ThopterRecord, TimelineEntry } from "@thopter/protocol";
import { describe, expect, it } from "vitest";
import { IllegalTransitionError, type RegistryChange } from "../src/registry/index.js";
import { TIMELINE_LIMIT } from "../src/registry/timeline.js";
import { fields, registryFixture } from "./registry-fixtures.js";

const f = registryFixture();
const { open, stored } = f;

describe("registry", () => {
  it("persists a new record before create resolves, and a restarted hub reads it back", async () => {
    const registry = await open();
    const record = await registry.create(fields("t1"));
    expect(record.timeline).toHaveLength(1);
    expect((await stored("t1"))?.state).toBe("requested");

    const again = await open();
    expect(again.get("t1")).toMatchObject({ id: "t1", state: "requested", branch: "thopter/7--t1" });
    await expect(again.create(fields("t1"))).rejects.toThrow(/already exists/);
  });

  it("walks the lifecycle, refuses transitions the state machine forbids, and writes each change through", async () => {
    const registry = await open();
    await registry.create(fields("t1"));
    await registry.transition("t1", "provisioning", "making a machine");
    await registry.transition("t1", "booting", "machine started", {
      machine: { provider: "local", id: "m1" },
    });
    await expect(registry.transition("t1", "requested", "back")).rejects.toBeInstanceOf(IllegalTransitionError);
    await registry.transition("t1", "working", "SessionStart");
    await registry.transition("t1", "done", "report_status done");

    const persisted = await stored("t1");
    expect(persisted?.state).toBe("done");
    expect(persisted?.machine).toEqual({ provider: "local", id: "m1" });
    expect(persisted?.timeline.map((e) => e.state)).toEqual([
      "requested",
      "provisioning",
      "booting",
      "working",
      "done",
    ]);

    await registry.transition("t1", "stopping", "idle");
    await registry.transition("t1", "gone", "destroyed");
    await expect(registry.transition("t1", "working", "zombie")).rejects.toThrow(/cannot go from gone to working/);
    expect(registry.forIssue("acme/widgets", 7)).toEqual([]);
  });

  it("tells subscribers about every change, with the state it came from", async () => {
    const registry = await open();
    const changes: Array<[RegistryChange["previousState"], string, string | undefined]> = [];
    registry.on("change", (c) => changes.push([c.previousState, c.record.state, c.entry?.kind]));
    await registry.create(fields("t1"));
    await registry.transition("t1", "provisioning", "go");
    await registry.appendTimeline("t1", { source: "hub", kind: "note", message: "hello" });
    expect(changes).toEqual([
      [null, "requested", "created"],
      ["requested", "provisioning", "state"],
      ["provisioning", "provisioning", "note"],
    ]);
  });

  it("keeps unimportant updates in memory until the next checkpoint, then writes them once", async () => {
    const registry = await open({ checkpointMs: 100 });
    await registry.create(fields("t1"));
    for (let i = 0; i < 20; i++) {
      await registry.update("t1", { patch: { lastReportAt: new Date(1_000 * i).toISOString() } });
    }
    expect((await f.store.get<{ record: ThopterRecord }>("thopters/t1"))?.record.lastReportAt).toBeUndefined();
    await expect
      .poll(async () => (await f.store.get<{ record: ThopterRecord }>("thopters/t1"))?.record.lastReportAt, {
        timeout: 5_000,
      })
      .toBe(new Date(19_000).toISOString());
  });

  it("writes pending updates on close", async () => {
    const registry = await open();
    await registry.create(fields("t1"));
    await registry.appendTimeline("t1", { source: "observer", kind: "PreToolUse", message: "Bash" });
    await registry.close();
    expect((await stored("t1"))?.timeline.at(-1)?.kind).toBe("PreToolUse");
  });

  it("replays durable changes after the last checkpoint exactly once, and drops the journal a checkpoint covers", async () => {
    const registry = await open();
    await registry.create(fields("t1"));
    await registry.transition("t1", "provisioning", "one");
    await registry.checkpoint();
    expect(await f.store.list("thopter-journal/")).toEqual([]);
    await registry.transition("t1", "booting", "two");
    await registry.appendTimeline("t1", { source: "hub", kind: "note", message: "three" }, true);
    expect((await f.store.list("thopter-journal/")).length).toBeGreaterThan(0);

    const restarted = await stored("t1");
    expect(restarted?.state).toBe("booting");
    expect(restarted?.timeline.map((e) => e.message)).toEqual(["thopter requested", "one", "two", "three"]);

    // A hub restarted after a crash checkpoints what it replayed before dropping the journal: a second restart
    // still sees it.
    const second = await open();
    await second.checkpoint();
    expect(await f.store.list("thopter-journal/")).toEqual([]);
    expect((await stored("t1"))?.state).toBe("booting");
  });

  it("applies an idempotency key once, across restarts too", async () => {
    const registry = await open();
    await registry.create(fields("t1"));
    const entry = { source: "broker" as const, kind: "report_status", message: "all done" };
    const first = await registry.update("t1", { idempotencyKey: "k1", entry });
    const retry = await registry.update("t1", { idempotencyKey: "k1", entry });
    expect([first.duplicate, retry.duplicate]).toEqual([false, true]);

    const restarted = await open();
    const afterRestart = await restarted.update("t1", { idempotencyKey: "k1", entry });
    expect(afterRestart.duplicate).toBe(true);
    expect(restarted.get("t1")?.timeline.filter((e) => e.kind === "report_status")).toHaveLength(1);
  });

  it("keeps only the newest timeline entries", async () => {
    const registry = await open();
    await registry.create(fields("t1"));
    for (let i = 0; i < TIMELINE_LIMIT + 25; i++) {
      await registry.appendTimeline("t1", { source: "observer", kind: "PostToolUse", message: `call ${i}` });
    }
    // Per source: the hub's own "created" entry stays beside the newest observer entries.
    const timeline = registry.get("t1")!.timeline.filter((e) => e.source === "observer");
    expect(timeline).toHaveLength(TIMELINE_LIMIT);
    expect(timeline[0]?.message).toBe("call 25");
    expect(timeline.at(-1)?.message).toBe(`call ${TIMELINE_LIMIT + 24}`);
  });

  it("bounds each source's entries separately, so an observer flood cannot push broker or hub entries out", async () => {
    const registry = await open();
    await registry.create(fields("t1"));
    for (let i = 0; i < 5; i++)
      await registry.appendTimeline("t1", { source: "broker", kind: "tool:get_issue", message: `tool ${i}` }, true);
    for (let i = 0; i < TIMELINE_LIMIT + 25; i++) {
      await registry.appendTimeline("t1", { source: "observer", kind: "PostToolUse", message: `call ${i}` }, true);
    }
    for (let i = 5; i < TIMELINE_LIMIT + 10; i++) {
      await registry.appendTimeline("t1", { source: "broker", kind: "tool:get_issue", message: `tool ${i}` }, true);
    }
    const check = (timeline: TimelineEntry[]) => {
      const broker = timeline.filter((e) => e.source === "broker");
      const observer = timeline.filter((e) => e.source === "observer");
      expect(broker).toHaveLength(TIMELINE_LIMIT);
      expect(broker[0]?.message).toBe("tool 10");
      expect(observer).toHaveLength(TIMELINE_LIMIT);
      expect(observer.at(-1)?.message).toBe(`call ${TIMELINE_LIMIT + 24}`);
      expect(timeline.filter((e) => e.source === "hub").map((e) => e.kind)).toEqual(["created"]);
    };
    check(registry.get("t1")!.timeline);
    // Durable appends: the journal replays them through the same bound after a restart.
    check((await open()).get("t1")!.timeline);
  });

  it("skips a record the store holds in a shape it cannot read, and still loads the rest", async () => {
    await f.store.put("thopters/broken", { record: { id: "broken", state: "levitating" }, reportKeys: [] });
    const first = await open();
    await first.create(fields("t1"));
    const registry = await open();
    expect(registry.list().map((r) => r.id)).toEqual(["t1"]);
  });
});
