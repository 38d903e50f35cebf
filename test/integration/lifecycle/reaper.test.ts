import type { Provider } from "@thopter/hub/providers/provider";
import { afterEach, describe, expect, it } from "vitest";
import { requests, until } from "../hub/harness.js";
import { type Lifecycle, type LifecycleOptions, startLifecycle, wrapProvider } from "./harness.js";

let l: Lifecycle;
afterEach(async () => {
  await l?.close();
});

const minutesLater = (n: number) => new Date(Date.now() + n * 60_000);

/** Starts a hub and provisions `count` thopters that report in; returns their ids. */
async function running(count: number, options: LifecycleOptions = {}): Promise<string[]> {
  l = await startLifecycle(options);
  l.command(`/thopter -n ${count}`);
  await l.settle();
  const ids = (await requests(l.s.hub))[0]!.thopterIds;
  for (const id of ids) await until(() => l.record(id)?.state === "working", 20_000, `${id} working`);
  return ids;
}

describe("reaper", () => {
  it("stops a thopter idle past IDLE_TIMEOUT_MIN: machine and volume destroyed, state gone", async () => {
    const [idle, busy] = await running(2);
    await l.run.registry.transition(idle!, "done", "report_status done");

    await l.run.reaper(minutesLater(30), { idleTimeoutMin: 60, orphanGraceMin: 120 }).reap();
    expect(l.record(idle!)?.state).toBe("done");

    await l.run.reaper(minutesLater(61), { idleTimeoutMin: 60, orphanGraceMin: 120 }).reap();
    expect(l.record(idle!)).toMatchObject({ state: "gone" });
    expect(l.record(idle!)?.timeline.map((e) => e.state)).toEqual(expect.arrayContaining(["stopping", "gone"]));
    expect(l.record(idle!)?.timeline.find((e) => e.state === "stopping")?.message).toMatch(/idle timeout/);
    expect(l.record(busy!)?.state).toBe("working");
    expect(await l.machineDirs()).toEqual([busy]);
  });

  it("stops any thopter older than MAX_LIFETIME_MIN, even a working one", async () => {
    const [id] = await running(1);
    await l.run.reaper(minutesLater(31), { maxLifetimeMin: 30, orphanGraceMin: 120 }).reap();
    expect(l.record(id!)?.state).toBe("gone");
    expect(l.record(id!)?.timeline.find((e) => e.state === "stopping")?.message).toMatch(/maximum lifetime of 30 min/);
    expect(await l.machineDirs()).toEqual([]);
  });

  it("stops an orphan whose status reports stopped, after the grace period only", async () => {
    const [id] = await running(1);
    await l.run.reaper(minutesLater(5), { orphanGraceMin: 10 }).reap();
    expect(l.record(id!)?.state).toBe("working");
    await l.run.reaper(minutesLater(11), { orphanGraceMin: 10 }).reap();
    expect(l.record(id!)?.state).toBe("gone");
    expect(l.record(id!)?.timeline.find((e) => e.state === "stopping")?.message).toMatch(/orphaned/);
  });

  it("retries a stop whose destroy failed, and finishes a stop a restart interrupted", async () => {
    let failDestroy = true;
    const flaky = (p: Provider) =>
      wrapProvider(p, {
        async destroy(ref) {
          if (failDestroy) throw new Error("Fly API 503");
          return p.destroy(ref);
        },
      });
    const [id] = await running(1, { wrap: flaky });
    await l.run.reaper(minutesLater(1), { maxLifetimeMin: 0.5 }).reap();
    expect(l.record(id!)?.state).toBe("stopping");
    expect(await l.machineDirs()).toEqual([id]);

    // The hub restarts with the thopter still `stopping`; the next sweep finishes the job.
    failDestroy = false;
    const run = await l.restart({ wrap: flaky });
    expect(run.registry.get(id!)?.state).toBe("stopping");
    await run.reaper(new Date()).reap();
    expect(run.registry.get(id!)?.state).toBe("gone");
    expect(await l.machineDirs()).toEqual([]);
  });
});
