import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MachineRef, ThopterRecord, TimelineEntry } from "@thopter/protocol";
import express from "express";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { MachineInfo, Provider } from "../src/providers/provider.js";
import {
  IllegalTransitionError,
  Registry,
  type RegistryChange,
  reconcile,
  thoptersRouter,
} from "../src/registry/index.js";
import { TIMELINE_LIMIT } from "../src/registry/timeline.js";
import { openStore } from "../src/store/index.js";
import type { Store } from "../src/store/store.js";

const log = pino({ level: "silent" });
let dir: string;
let store: Store;
const opened: Registry[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "registry-"));
  store = await openStore(`file:${dir}`);
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.close()));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(options: { checkpointMs?: number } = {}): Promise<Registry> {
  const registry = await Registry.open(store, log, { checkpointMs: options.checkpointMs ?? 60_000 });
  opened.push(registry);
  return registry;
}

function fields(id: string, machine: MachineRef | null = null) {
  return {
    id,
    requestId: `req-${id}`,
    repo: "acme/widgets",
    issueNumber: 7,
    issueTitle: "Make widgets spin",
    branch: `thopter/7--${id}`,
    gc: "default",
    prompt: "default",
    state: "requested" as const,
    machine,
  };
}

/** The record as a hub restarted right now (after a kill -9) would see it. Never closed: it must not write. */
const stored = async (id: string) => (await Registry.open(store, log, { checkpointMs: 3_600_000 })).get(id);

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
    expect((await store.get<{ record: ThopterRecord }>("thopters/t1"))?.record.lastReportAt).toBeUndefined();
    await expect
      .poll(async () => (await store.get<{ record: ThopterRecord }>("thopters/t1"))?.record.lastReportAt, {
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
    expect(await store.list("thopter-journal/")).toEqual([]);
    await registry.transition("t1", "booting", "two");
    await registry.appendTimeline("t1", { source: "hub", kind: "note", message: "three" }, true);
    expect((await store.list("thopter-journal/")).length).toBeGreaterThan(0);

    const restarted = await stored("t1");
    expect(restarted?.state).toBe("booting");
    expect(restarted?.timeline.map((e) => e.message)).toEqual(["thopter requested", "one", "two", "three"]);

    // A hub restarted after a crash checkpoints what it replayed before dropping the journal: a second restart
    // still sees it.
    const second = await open();
    await second.checkpoint();
    expect(await store.list("thopter-journal/")).toEqual([]);
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
    await store.put("thopters/broken", { record: { id: "broken", state: "levitating" }, reportKeys: [] });
    const first = await open();
    await first.create(fields("t1"));
    const registry = await open();
    expect(registry.list().map((r) => r.id)).toEqual(["t1"]);
  });
});

function machine(thopterId: string, id: string, state: MachineInfo["state"] = "running"): MachineInfo {
  return {
    ref: { provider: "local", id },
    state,
    detail: state,
    createdAt: new Date().toISOString(),
    thopterId,
    repo: "acme/widgets",
    issueNumber: 9,
  };
}

function providerListing(machines: MachineInfo[]): Provider {
  return {
    kind: "local",
    isolation: "off",
    list: async () => machines,
    create: async () => {
      throw new Error("not used");
    },
    destroy: async () => {},
    status: async () => "running",
  };
}

describe("reconcile", () => {
  it("adopts, attaches, marks gone and flags, as the provider's list says", async () => {
    const registry = await open();
    // Known, machine still there: untouched.
    await registry.create({ ...fields("keep", { provider: "local", id: "m-keep" }), state: "booting" });
    // Known, machine gone while the hub was down.
    await registry.create({ ...fields("lost", { provider: "local", id: "m-lost" }), state: "booting" });
    // Hub stopped between provider.create and recording the machine.
    await registry.create({ ...fields("half"), state: "provisioning" });
    // Gone in the registry, but its machine lingers.
    await registry.create({ ...fields("ghost", { provider: "local", id: "m-ghost" }), state: "gone" });
    // A record from another provider is not judged by this one's list.
    await registry.create({ ...fields("elsewhere", { provider: "fly", id: "fly-1" }), state: "working" });

    const report = await reconcile(
      registry,
      providerListing([
        machine("keep", "m-keep"),
        machine("half", "m-half"),
        machine("ghost", "m-ghost"),
        machine("keep", "m-dup"), // a second machine for a thopter that has one
        machine("stranger", "m-stranger"),
        machine("stopped-stranger", "m-stopped", "stopped"),
        machine("lost", "m-lost", "gone"),
      ]),
      log,
    );

    expect(report.adopted.sort()).toEqual(["stopped-stranger", "stranger"]);
    expect(report.attached).toEqual(["half"]);
    expect(report.gone).toEqual(["lost"]);
    expect(report.flagged.map((f) => f.machine.ref.id).sort()).toEqual(["m-dup", "m-ghost"]);

    expect(registry.get("keep")?.state).toBe("booting");
    expect(registry.get("lost")?.state).toBe("gone");
    expect(registry.get("half")).toMatchObject({ state: "provisioning", machine: { id: "m-half" } });
    expect(registry.get("stranger")).toMatchObject({
      state: "waiting",
      repo: "acme/widgets",
      issueNumber: 9,
      branch: "thopter/9--stranger",
      machine: { id: "m-stranger" },
    });
    expect(registry.get("stopped-stranger")?.state).toBe("failed");
    expect(registry.get("elsewhere")?.state).toBe("working");

    // What reconcile decided is durable.
    const restarted = await open();
    expect(restarted.get("lost")?.state).toBe("gone");
    expect(restarted.get("stranger")?.machine?.id).toBe("m-stranger");
  });

  it("marks a booted record with no machine at all as gone, but leaves unprovisioned ones to the scheduler", async () => {
    const registry = await open();
    await registry.create({ ...fields("queued"), state: "requested" });
    await registry.create({ ...fields("odd"), state: "working" });
    const report = await reconcile(registry, providerListing([]), log);
    expect(report.gone).toEqual(["odd"]);
    expect(registry.get("queued")?.state).toBe("requested");
  });
});

describe("GET /api/thopters", () => {
  it("lists each thopter's state, branch, machine and timeline, newest first, and shows one by id", async () => {
    const registry = await open();
    await registry.create(fields("older"));
    await new Promise((r) => setTimeout(r, 5));
    await registry.create({ ...fields("newer", { provider: "local", id: "m-newer" }), state: "booting" });
    const server = express().use(thoptersRouter(registry)).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const list = (await (await fetch(`${base}/api/thopters`)).json()) as { thopters: ThopterRecord[] };
      expect(list.thopters.map((t) => t.id)).toEqual(["newer", "older"]);
      expect(list.thopters[0]).toMatchObject({
        state: "booting",
        branch: "thopter/7--newer",
        machine: { id: "m-newer" },
        timeline: [{ kind: "created" }],
      });
      expect(await (await fetch(`${base}/api/thopters/older`)).json()).toMatchObject({
        id: "older",
        state: "requested",
      });
      const missing = await fetch(`${base}/api/thopters/nope`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { error: string }).error).toMatch(/no thopter nope/);
    } finally {
      server.close();
    }
  });
});
