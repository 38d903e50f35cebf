import type { AddressInfo } from "node:net";
import type { Provider } from "@thopter/hub/providers/provider";
import { controlRouter, thopterIdsFor } from "@thopter/hub/scheduler/index";
import type { ThopterRequest } from "@thopter/protocol";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { BOT, REPO, requests, until } from "../hub/harness.js";
import { diesAfterCreate, type Lifecycle, type LifecycleOptions, startLifecycle, wrapProvider } from "./harness.js";

let l: Lifecycle;
afterEach(async () => {
  await l?.close();
});

async function start(options: LifecycleOptions = {}): Promise<Lifecycle> {
  l = await startLifecycle(options);
  return l;
}

const rockets = (comment: number) => l.s.peer.reactions(REPO, { comment }).filter((r) => r.content === "rocket").length;
const botComments = () =>
  l.s.peer
    .comments(REPO, l.s.issue)
    .filter((c) => (c.user as { login: string }).login === BOT)
    .map((c) => String(c.body));
async function onlyRequest(): Promise<ThopterRequest> {
  const all = await requests(l.s.hub.url);
  expect(all).toHaveLength(1);
  return all[0]!;
}

/** Wraps a provider so its creates can be held, counted and made to fail. */
function instrumented(inner: Provider, behaviour: { hold?: Promise<void>; fail?: string } = {}) {
  const stats = { creates: 0, concurrent: 0, maxConcurrent: 0 };
  const provider = wrapProvider(inner, {
    async create(spec, owner) {
      stats.creates++;
      stats.concurrent++;
      stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.concurrent);
      try {
        await behaviour.hold;
        if (behaviour.fail) throw new Error(behaviour.fail);
        return await inner.create(spec, owner);
      } finally {
        stats.concurrent--;
      }
    },
  });
  return { provider, stats };
}

describe("scheduler with the local provider", () => {
  it("provisions a /thopter request: machine booted from the spec, reporting with its own token, 🚀 on the comment", async () => {
    await start();
    const comment = l.command("/thopter fix the wobble");
    await l.settle();

    const request = await onlyRequest();
    expect(request.state).toBe("provisioned");
    const [id] = thopterIdsFor(request);
    expect(request.thopterIds).toEqual([id]);
    expect(l.record(id!)).toMatchObject({
      branch: `thopter/${l.s.issue}--${id}`,
      requestId: request.id,
      machine: { provider: "local", id },
    });
    // The thopter read its status token and the collector URL from the delivered files and reported in.
    await until(() => l.record(id!)?.state === "working", 20_000, "the thopter's first status report");
    expect(l.record(id!)?.timeline.map((e) => e.kind)).toEqual(
      expect.arrayContaining(["created", "state", "SessionStart"]),
    );
    expect(rockets(comment)).toBe(1);
    expect(botComments()).toEqual([]);
  });

  it("makes N thopters for -n N, each on its own branch", async () => {
    await start();
    l.command("/thopter -n 3");
    await l.settle();
    const request = await onlyRequest();
    const records = request.thopterIds.map((id) => l.record(id)!);
    for (const record of records) expect(record.state).toMatch(/booting|working/);
    expect(new Set(records.map((r) => r.branch)).size).toBe(3);
    expect(await l.machineDirs()).toEqual([...request.thopterIds].sort());
  });

  it("honours MAX_THOPTERS: the rest wait, idle thopters free their slot", async () => {
    await start({ maxThopters: 2 });
    l.command("/thopter -n 3");
    await l.settle();
    const request = await onlyRequest();
    expect(request.state).toBe("provisioning");
    const [a, b, c] = thopterIdsFor(request);
    expect(l.record(c!)).toBeUndefined();
    expect(await l.machineDirs()).toHaveLength(2);

    // One finishes its work (report_status done): it is idle, so it no longer holds a slot.
    await until(() => l.record(a!)?.state === "working", 20_000, "thopter a working");
    await l.run.registry.transition(a!, "done", "report_status done");
    await l.run.scheduler.idle();
    expect(l.record(c!)?.state).toMatch(/booting|working/);
    expect(l.record(b!)?.state).toMatch(/booting|working/);
    await l.settle();
    expect((await onlyRequest()).state).toBe("provisioned");
  });

  it("provisions in parallel up to MAX_CONCURRENT_PROVISIONS, and no further", async () => {
    let release!: () => void;
    const hold = new Promise<void>((r) => {
      release = r;
    });
    let stats!: ReturnType<typeof instrumented>["stats"];
    await start({
      maxConcurrentProvisions: 2,
      wrap: (p) => {
        const i = instrumented(p, { hold });
        stats = i.stats;
        return i.provider;
      },
    });
    l.command("/thopter -n 5");
    await l.s.hub.pollNow();
    l.run.scheduler.wake();
    await until(() => stats.concurrent === 2, 10_000, "two creates in flight");
    await new Promise((r) => setTimeout(r, 300));
    expect(stats.creates).toBe(2);
    release();
    await l.settle();
    expect(stats).toMatchObject({ creates: 5, maxConcurrent: 2 });
    expect((await onlyRequest()).state).toBe("provisioned");
  });

  it("pauses and resumes", async () => {
    await start();
    l.run.scheduler.pause();
    l.command("/thopter");
    await l.settle();
    expect((await onlyRequest()).state).toBe("queued");
    expect(await l.machineDirs()).toEqual([]);
    l.run.scheduler.resume();
    await l.run.scheduler.idle();
    expect((await onlyRequest()).state).toBe("provisioned");
  });

  it("a failed create: thopter failed, nothing left behind, one comment saying what failed and what to try", async () => {
    await start({ wrap: (p) => instrumented(p, { fail: "no capacity in region ord" }).provider });
    const comment = l.command("/thopter -n 2");
    await l.settle();

    const request = await onlyRequest();
    expect(request.state).toBe("failed");
    expect(request.stateReason).toMatch(/creating its machine failed: no capacity in region ord/);
    for (const id of request.thopterIds) expect(l.record(id)?.state).toBe("failed");
    expect(await l.machineDirs()).toEqual([]);
    expect(rockets(comment)).toBe(0);
    const comments = botComments();
    expect(comments).toHaveLength(1);
    expect(comments[0]).toMatch(/could not be started: creating its machine failed: no capacity in region ord/);
    expect(comments[0]).toMatch(/What to try: .*comment `\/thopter` again/);

    // A restarted hub does not post it again.
    await l.restart();
    await l.settle();
    expect(botComments()).toHaveLength(1);
  });

  it("a hub killed mid-provision and restarted: the half-made machine is replaced, never two, no leaked volume", async () => {
    // The first run makes the machine and then hangs before it can record it: as if killed right there.
    await start({ wrap: diesAfterCreate });
    l.command("/thopter");
    await l.s.hub.pollNow();
    l.run.scheduler.wake();
    const [id] = thopterIdsFor((await requests(l.s.hub.url))[0]!);
    await until(async () => (await l.provider.list()).some((m) => m.thopterId === id), 20_000, "the machine");
    const first = (await l.provider.list()).find((m) => m.thopterId === id)!;
    expect(l.record(id!)?.state).toBe("provisioning");

    const run = await l.restart({});
    await l.settle();
    const machines = (await l.provider.list()).filter((m) => m.thopterId === id && m.state !== "gone");
    expect(machines).toHaveLength(1);
    expect(machines[0]!.createdAt).not.toBe(first.createdAt);
    expect(await l.machineDirs()).toEqual([id]);
    expect(run.registry.get(id!)?.state).toMatch(/booting|working/);
    // The new machine has fresh tokens that work; the old ones were replaced.
    await until(() => run.registry.get(id!)?.state === "working", 20_000, "the new machine's report");
    expect((await onlyRequest()).state).toBe("provisioned");
  });

  it("/thopter stop stops the issue's thopters and cancels its waiting requests", async () => {
    await start({ maxThopters: 1 });
    l.command("/thopter");
    await l.settle();
    l.command("/thopter -n 2");
    await l.settle();
    expect(await l.machineDirs()).toHaveLength(1);

    l.command("/thopter stop");
    await l.settle();
    const all = await requests(l.s.hub.url);
    expect(all.map((r) => r.state)).toEqual(["provisioned", "cancelled", "provisioned"]);
    for (const record of l.run.registry.list()) expect(record.state).toBe("gone");
    expect(await l.machineDirs()).toEqual([]);
  });

  it("POST /api/pause, /api/resume and /api/thopters/:id/stop, behind the dashboard token", async () => {
    await start();
    const { scheduler, stopper, registry } = l.run;
    const authorize: express.RequestHandler = (req, res, next) => {
      if (req.headers.authorization === "Bearer dash-token") next();
      else res.status(401).json({ error: "dashboard token required" });
    };
    const server = express().use(controlRouter({ scheduler, stopper, registry, authorize })).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const post = (path: string, token = "dash-token") =>
      fetch(base + path, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    try {
      expect((await post("/api/pause", "guess")).status).toBe(401);
      expect(scheduler.isPaused).toBe(false);
      expect(await (await post("/api/pause")).json()).toEqual({ paused: true });
      l.command("/thopter");
      await l.settle();
      expect((await onlyRequest()).state).toBe("queued");
      expect(await (await post("/api/resume")).json()).toEqual({ paused: false });
      await scheduler.idle();
      const [id] = (await onlyRequest()).thopterIds;

      expect((await post(`/api/thopters/${id}/stop`, "guess")).status).toBe(401);
      expect(l.record(id!)?.state).not.toBe("gone");
      expect(await (await post(`/api/thopters/${id}/stop`)).json()).toEqual({ id, state: "gone" });
      expect(await l.machineDirs()).toEqual([]);
      expect((await post("/api/thopters/nope/stop")).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
