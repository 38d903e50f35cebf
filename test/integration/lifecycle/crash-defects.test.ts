import type { Provider } from "@thopter/hub/providers/provider";
import { thopterIdsFor } from "@thopter/hub/scheduler/index";
import type { Command, CommandSource, ThopterRequest } from "@thopter/protocol";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { startRedis } from "../../helpers/redis.js";
import { hubGet, REPO, until } from "../hub/harness.js";
import { diesAfterCreate, type LifecycleOptions, useLifecycle, wrapProvider } from "./harness.js";

// The defects a kill -9 storm found (issue 11), each reproduced in-process: `restart` abandons a run the way a
// killed hub leaves it (nothing it had under way ever finishes) and starts the next on the same store and machines.
const t = useLifecycle();
const start = (options?: LifecycleOptions) => t.start(options);

const START: Command = { kind: "start", gc: "default", prompt: "default", count: 1, instructions: "" };
const STOP: Command = { kind: "stop" };

/** Stores a command as intake would, written on GitHub at `writtenAt` (seconds after a fixed instant), 👀 done. */
async function store(commentId: number, writtenAt: number, command: Command): Promise<ThopterRequest> {
  const source: CommandSource = {
    repo: REPO,
    issueNumber: t.l.s.issue,
    commentId,
    author: "alice",
    authorAssociation: "OWNER",
    url: `https://github.test/${REPO}/issues/${t.l.s.issue}#issuecomment-${commentId}`,
    via: "poll",
    createdAt: new Date(Date.UTC(2026, 0, 1, 12, 0, writtenAt)).toISOString(),
  };
  const { request } = await t.l.s.hub.queue.create(source, "Widgets wobble", command);
  await t.l.s.hub.queue.markAcknowledged(request.id);
  return request;
}

async function settled(): Promise<void> {
  t.l.run.scheduler.wake();
  await t.l.run.scheduler.idle();
}

/** A start whose machine exists while the hub that made it hangs before recording it (as if killed right there). */
async function halfMade(): Promise<{ request: ThopterRequest; id: string }> {
  await start({ wrap: diesAfterCreate });
  const request = await store(1, 10, START);
  t.l.run.scheduler.wake();
  const id = thopterIdsFor(request)[0]!;
  await until(async () => (await liveMachines(id)).length === 1, 20_000, "the half-made machine");
  return { request, id };
}

const liveMachines = async (id: string) =>
  (await t.l.provider.list()).filter((m) => m.thopterId === id && m.state !== "gone");

describe("issue 11: exactly once under every crash", () => {
  it("defect 1: a /thopter stop written before a start but stored after it leaves that start's thopter running", async () => {
    await start();
    const begun = await store(2, 20, START);
    await settled();
    const id = thopterIdsFor(begun)[0]!;
    expect(t.l.record(id)?.state).toMatch(/booting|working/);

    // The poller finds an older stop only now (it was written while the hub was down).
    await store(1, 10, STOP);
    await settled();
    expect(t.l.record(id)?.state).toMatch(/booting|working/);
    expect(await liveMachines(id)).toHaveLength(1);
  });

  it("defect 1: a start written before a stop but stored after the stop ran is stopped too, never provisioned", async () => {
    await start();
    await store(2, 20, STOP);
    await settled();
    const late = await store(1, 10, START);
    await settled();
    expect((await t.l.s.hub.queue.get(late.id))?.state).toBe("cancelled");
    const id = thopterIdsFor(late)[0]!;
    expect(await liveMachines(id)).toHaveLength(0);
    expect(t.l.record(id)?.state ?? "never made").toMatch(/gone|never made/);
  });

  it("defect 2: a hub killed while removing a leftover machine provisions again on the next start", async () => {
    const { request, id } = await halfMade();

    // Second run: reconcile attaches the machine, the scheduler removes it as a leftover and dies before recording it.
    const destroyed = new Promise<void>((resolve) => {
      void t.l.restart({
        wrap: (p: Provider) =>
          wrapProvider(p, {
            async destroy(ref) {
              await p.destroy(ref);
              resolve();
              return new Promise(() => {});
            },
          }),
      });
    });
    await destroyed;
    await t.l.restart({});
    await settled();

    expect(t.l.record(id)?.state).toMatch(/booting|working/);
    expect(await liveMachines(id)).toHaveLength(1);
    expect((await t.l.s.hub.queue.get(request.id))?.state).toBe("provisioned");
  });

  it("defect 3: a stop cancelling an in-flight provision of a killed hub leaves no thopter in provisioning", async () => {
    const { request, id } = await halfMade();
    await store(2, 20, STOP);
    await until(async () => (await t.l.s.hub.queue.get(request.id))?.state === "cancelled", 20_000, "the cancellation");

    await t.l.restart({});
    await settled();
    await until(() => t.l.record(id)?.state === "gone", 20_000, "the cancelled thopter to be stopped");
    expect(await liveMachines(id)).toHaveLength(0);
    expect(await t.l.machineDirs()).toEqual([]);
  });

  it("defect 5: a Redis that loses its data mid-provision never makes the hub loop on 🚀", async () => {
    const redis = await startRedis();
    try {
      let release!: () => void;
      const hold = new Promise<void>((r) => {
        release = r;
      });
      await start({
        env: { STORE_URL: redis.url },
        wrap: (p: Provider) =>
          wrapProvider(p, {
            create: async (spec, owner) => {
              await hold;
              return p.create(spec, owner);
            },
          }),
      });
      const request = await store(1, 10, START);
      t.l.run.scheduler.wake();
      await until(
        async () => (await t.l.s.hub.queue.get(request.id))?.state === "provisioning",
        20_000,
        "the provision to start",
      );
      // Redis restarted without persistence: everything the hub wrote is gone.
      const admin = new Redis(redis.url);
      await admin.flushall();
      admin.disconnect();
      release();
      // Passes over the queue, as the scheduler's 1 s timer makes them in a hub.
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 300));
        t.l.run.scheduler.wake();
      }
      const rocketPosts = t.l.s.peer.requestLog.filter((e) => e.method === "POST" && /\/reactions$/.test(e.path));
      expect(rocketPosts.length).toBeLessThanOrEqual(1);
      // It says so: the store's part of /healthz, not a repository, and it stopped scheduling.
      const health = (await (await fetch(`${t.l.s.hub.url}/healthz`)).json()) as { store: { detail: string } };
      expect(health).toMatchObject({ status: "degraded", store: { state: "lost" }, failing: [] });
      expect(health.store.detail).toMatch(/lost data/);
      // Its memory does not answer for what the store lost: the requests are not served from it.
      expect((await hubGet(t.l.s.hub, "/api/requests")).status).toBe(500);
    } finally {
      await t.close();
      await redis.stop();
    }
  });
});
