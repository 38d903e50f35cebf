import { Reaper } from "@thopter/hub/reaper/index";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { BOT, REPO, requests, until } from "../hub/harness.js";
import { type FlyHarness, startFly } from "../providers/fly-harness.js";
import { diesAfterCreate, type Lifecycle, startLifecycle } from "./harness.js";

let fly: FlyHarness;
let l: Lifecycle;
afterEach(async () => {
  await l?.close();
  await fly?.close();
});

describe("scheduler with the Fly provider (Fly peer running machines as local processes)", () => {
  it("provisions in at most 4 Fly calls, the machine reports in, and /thopter stop destroys machine and volume", async () => {
    fly = await startFly();
    l = await startLifecycle({ base: fly.provider });
    l.command("/thopter");
    await l.s.hub.pollNow();
    const before = fly.client.stats().calls;
    l.run.scheduler.wake();
    await l.run.scheduler.idle();
    expect(fly.client.stats().calls - before).toBeLessThanOrEqual(4);

    const [request] = await requests(l.s.hub);
    expect(request?.state).toBe("provisioned");
    const id = request!.thopterIds[0]!;
    const machine = l.record(id)?.machine;
    expect(machine).toMatchObject({ provider: "fly", volumeId: expect.any(String) });
    await until(() => l.record(id)?.state === "working", 30_000, "the Fly machine's first status report");

    l.command("/thopter stop");
    await l.settle();
    expect(l.record(id)?.state).toBe("gone");
    expect(fly.peer.machines().find((m) => m.id === machine!.id)?.state).toBe("destroyed");
    expect(fly.peer.volumes().filter((v) => v.state !== "destroyed")).toEqual([]);
  });

  it("a hub killed mid-create and restarted: one machine and one volume for the thopter, never two", async () => {
    fly = await startFly();
    l = await startLifecycle({
      base: fly.provider,
      // The first run's create makes the machine, then the "hub dies" before it can record it.
      wrap: diesAfterCreate,
    });
    l.command("/thopter");
    await l.s.hub.pollNow();
    l.run.scheduler.wake();
    await until(() => fly.peer.machines().some((m) => m.state === "started"), 30_000, "the first machine");

    const run = await l.restart({ base: fly.provider });
    await l.settle();
    const [request] = await requests(l.s.hub);
    const id = request!.thopterIds[0]!;
    expect(run.registry.get(id)?.state).toMatch(/booting|working/);
    const live = fly.peer.machines().filter((m) => m.state !== "destroyed");
    expect(live).toHaveLength(1);
    expect(live[0]!.id).toBe(run.registry.get(id)?.machine?.id);
    expect(fly.peer.volumes().filter((v) => v.state !== "destroyed")).toHaveLength(1);
  });

  it("a machine that never reaches started: thopter failed, machine and volume gone, one comment", async () => {
    fly = await startFly({}, { startTimeoutSeconds: 1 });
    l = await startLifecycle({ base: fly.provider });
    // Fly answers the wait with 408 when the machine is not started in time.
    fly.peer.inject({ match: "Machines_wait", status: 408, body: { error: "timeout waiting for started" } });
    l.command("/thopter");
    await l.settle();

    const [request] = await requests(l.s.hub);
    expect(request?.state).toBe("failed");
    expect(l.record(request!.thopterIds[0]!)?.state).toBe("failed");
    expect(fly.peer.machines().filter((m) => m.state !== "destroyed")).toEqual([]);
    expect(fly.peer.volumes().filter((v) => v.state !== "destroyed")).toEqual([]);
    const comments = l.s.peer.comments(REPO, l.s.issue).filter((c) => (c.user as { login: string }).login === BOT);
    expect(comments).toHaveLength(1);
    expect(String(comments[0]!.body)).toMatch(/creating its machine failed: .*\n\nWhat to try: /s);
  });

  it("a destroy that times out half-way leaves a volume; the reaper's provider sweep deletes it", async () => {
    fly = await startFly({}, { startTimeoutSeconds: 1, stopTimeoutSeconds: 1 });
    l = await startLifecycle({ base: fly.provider });
    // Every wait times out: the start, and the cleanup's wait for `destroyed`, so the volume cannot be deleted then.
    fly.peer.inject({ match: "Machines_wait", status: 408, times: 10, body: { error: "timeout" } });
    l.command("/thopter");
    await l.settle();
    expect(fly.peer.machines().filter((m) => m.state !== "destroyed")).toEqual([]);
    expect(fly.peer.volumes().filter((v) => v.state !== "destroyed")).toHaveLength(1);

    const { registry, stopper } = l.run;
    const reaper = new Reaper({
      registry,
      stopper,
      log: pino({ level: "silent" }),
      idleTimeoutMin: 60,
      maxLifetimeMin: 720,
      removeProviderLeftovers: () => fly.provider.removeLeftovers(0),
    });
    await reaper.reap();
    expect(fly.peer.volumes().filter((v) => v.state !== "destroyed")).toEqual([]);
  });
});
