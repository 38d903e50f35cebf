// The scheduler's pass time with 100,000 finished requests in the store against none: it reads an index of open
// requests, so history must not slow it (docs/architecture.md#performance: within 1.5×). The store is the file
// store on /dev/shm (tmpfs) so seeding 100,000 requests takes seconds; the passes themselves read memory only.
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { RequestQueue, requestId } from "@thopter/hub/requests/queue";
import { startThopterServices } from "@thopter/hub/scheduler/index";
import { openStore, type Store } from "@thopter/hub/store/index";
import { type CommandSource, sourceKey, ThopterRequest } from "@thopter/protocol";
import { pino } from "pino";
import { lifecycleConfig } from "../integration/lifecycle/fixtures.js";
import { FlyPeer } from "../peers/fly/index.js";
import type { Bench, BenchRow } from "./bench.js";
import { benchFlyProvider } from "./fly-provider.js";

const HISTORY = 100_000;
/** Open requests waiting in every run (on issues that also hold history). */
const OPEN = 20;
const ISSUES = 1_000;
const PASSES = 1_000;
const WRITES_AT_ONCE = 256;

function stored(n: number, state: ThopterRequest["state"], at: Date): ThopterRequest {
  const source: CommandSource = {
    repo: "acme/widgets",
    issueNumber: (n % ISSUES) + 1,
    commentId: 1_000_000 + n,
    author: "alice",
    authorAssociation: "OWNER",
    url: `https://github.test/acme/widgets/issues/${(n % ISSUES) + 1}#issuecomment-${1_000_000 + n}`,
    via: "webhook",
    createdAt: at.toISOString(),
  };
  const key = sourceKey(source);
  const command = { kind: "start", gc: "default", prompt: "default", count: 1, instructions: "" } as const;
  return ThopterRequest.parse({
    id: requestId(key),
    key,
    source,
    issueTitle: `Issue ${source.issueNumber}`,
    command,
    state,
    acknowledged: true,
    createdAt: at.toISOString(),
    updatedAt: at.toISOString(),
    thopterIds: [],
  });
}

/** Writes `count` finished requests (as a hub that ran for months leaves them) then `OPEN` queued ones. */
async function seed(store: Store, count: number): Promise<void> {
  const old = new Date(Date.now() - 86_400_000);
  for (let i = 0; i < count; i += WRITES_AT_ONCE) {
    const batch = Array.from({ length: Math.min(WRITES_AT_ONCE, count - i) }, (_, j) =>
      stored(i + j, "provisioned", old),
    );
    await Promise.all(batch.map((r) => store.put(`requests/${r.id}`, r)));
  }
  for (let i = 0; i < OPEN; i++) {
    const r = stored(count + i, "queued", new Date());
    await store.put(`requests/${r.id}`, r);
  }
}

/** Mean milliseconds of one scheduler pass (paused: it reads and decides, starts nothing) over `PASSES` passes. */
async function passTime(history: number): Promise<number> {
  const dir = mkdtempSync(join("/dev/shm", "scheduler-history-bench-"));
  const log = pino({ level: "silent" });
  const peer = await FlyPeer.start();
  const store = await openStore(`file:${join(dir, "state")}`);
  try {
    await seed(store, history);
    const { provider } = benchFlyProvider(peer, log);
    const queue = new RequestQueue(store);
    const services = await startThopterServices(lifecycleConfig(dir), {
      store,
      queue,
      provider,
      provisioningNotices: { provisioned: async () => {}, failed: async () => {} },
      log,
      entrypoint: ["/usr/local/bin/thopter-boot"],
      pollMs: 3_600_000,
    });
    const { scheduler } = services;
    scheduler.pause();
    // The first pass reads the store into memory: not what a pass costs afterwards.
    scheduler.wake();
    await scheduler.idle();
    const start = performance.now();
    for (let i = 0; i < PASSES; i++) {
      scheduler.wake();
      await scheduler.idle();
    }
    const ms = (performance.now() - start) / PASSES;
    if ((await queue.view()).open().length !== OPEN) throw new Error("the open requests changed during the bench");
    await services.stop();
    peer.assertClean();
    return ms;
  } finally {
    await store.close();
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const bench: Bench = {
  name: "scheduler-history",
  async run(): Promise<BenchRow[]> {
    const empty = await passTime(0);
    const full = await passTime(HISTORY);
    const area = `scheduler pass (${OPEN} open requests, paused)`;
    const ratio = full / empty;
    return [
      { area, metric: "pass time, 0 finished requests in the store", value: empty, unit: "ms" },
      { area, metric: `pass time, ${HISTORY.toLocaleString("en")} finished requests`, value: full, unit: "ms" },
      { area, metric: "history slow-down (ratio)", value: ratio, unit: "×", target: "≤ 1.5", ok: ratio <= 1.5 },
    ];
  },
};
export default bench;
