// Provisioning through the scheduler and the Fly provider against the Fly peer: Fly calls per thopter, and the wall
// time of 20 queued requests with MAX_CONCURRENT_PROVISIONS=4 against 1. The client keeps Fly's real rate limits
// (1 request/s per app-wide action, bursts of 3) and the peer takes Fly-like time to boot a machine, so 4 at once
// is bounded by about one thopter per second however fast machines boot.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RequestQueue } from "@thopter/hub/requests/queue";
import { startThopterServices } from "@thopter/hub/scheduler/index";
import { openStore } from "@thopter/hub/store/index";
import { pino } from "pino";
import { lifecycleConfig } from "../integration/lifecycle/fixtures.js";
import { FlyPeer } from "../peers/fly/index.js";
import type { Bench, BenchRow } from "./bench.js";
import { benchFlyProvider } from "./fly-provider.js";

const REQUESTS = 20;
/** Each automatic machine state step (created → starting → started) takes this long in the peer: a ~2 s boot. */
const BOOT_STEP_MS = 1_000;
const MAX_CALLS_PER_THOPTER = 4;

interface Outcome {
  wallSeconds: number;
  callsPerThopter: number;
  provisioned: number;
}

/** `requests` queued requests provisioned with `maxConcurrentProvisions` at once, machines booting in 2 × `stepMs`. */
async function provisionAll(
  maxConcurrentProvisions: number,
  requests = REQUESTS,
  stepMs = BOOT_STEP_MS,
): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), "provisioning-bench-"));
  const log = pino({ level: "silent" });
  const peer = await FlyPeer.start({ transitionMs: stepMs });
  const store = await openStore(`file:${join(dir, "state")}`);
  try {
    const { provider, client } = benchFlyProvider(peer, log);
    const queue = new RequestQueue(store);
    const config = {
      ...lifecycleConfig(dir),
      MAX_THOPTERS: requests,
      MAX_CONCURRENT_PROVISIONS: maxConcurrentProvisions,
    };
    // Started first (its start-up reconcile is a per-hub cost), polling too slowly to see the requests on its own.
    const services = await startThopterServices(config, {
      store,
      queue,
      provider,
      provisioningNotices: { provisioned: async () => {}, failed: async () => {} },
      log,
      entrypoint: ["/usr/local/bin/thopter-boot"],
      pollMs: 3_600_000,
    });
    for (let i = 0; i < requests; i++) {
      const { request } = await queue.create(
        {
          repo: "acme/widgets",
          issueNumber: i + 1,
          commentId: 1000 + i,
          author: "alice",
          authorAssociation: "OWNER",
          url: `https://github.test/acme/widgets/issues/${i + 1}`,
          via: "webhook",
          createdAt: new Date(Date.now() + i).toISOString(),
        },
        `Issue ${i + 1}`,
        { kind: "start", gc: "default", prompt: "default", count: 1, instructions: "" },
      );
      await queue.markAcknowledged(request.id);
    }
    const before = client.stats().calls;
    const start = performance.now();
    services.scheduler.wake();
    await services.scheduler.idle();
    const wallSeconds = (performance.now() - start) / 1000;
    const calls = client.stats().calls - before;
    const provisioned = services.registry.list().filter((r) => r.state === "booting").length;
    await services.stop();
    peer.assertClean();
    return { wallSeconds, callsPerThopter: calls / Math.max(1, provisioned), provisioned };
  } finally {
    await store.close();
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The rows that are counts: every request provisioned in each run (`label` names the runs), Fly calls per thopter. */
function countRows(area: string, requests: number, label: string, outcomes: Outcome[]): BenchRow[] {
  const calls = Math.max(...outcomes.map((o) => o.callsPerThopter));
  return [
    {
      area,
      metric: `thopters provisioned (${label})`,
      value: outcomes.map((o) => o.provisioned).join(" / "),
      target: outcomes.map(() => requests).join(" / "),
      ok: outcomes.every((o) => o.provisioned === requests),
    },
    {
      area,
      metric: "Fly calls per thopter",
      value: calls,
      target: `≤ ${MAX_CALLS_PER_THOPTER}`,
      ok: calls <= MAX_CALLS_PER_THOPTER,
    },
  ];
}

/** The quick pass: a few requests, 4 at once, on machines that boot at once. */
const COUNT_REQUESTS = 6;

const bench: Bench = {
  name: "provisioning",
  async run(): Promise<BenchRow[]> {
    const serial = await provisionAll(1);
    const parallel = await provisionAll(4);
    const area = `provisioning (Fly peer, ${REQUESTS} requests)`;
    return [
      ...countRows(area, REQUESTS, "1 / 4 at once", [serial, parallel]),
      { area, metric: "wall time, MAX_CONCURRENT_PROVISIONS=1", value: serial.wallSeconds, unit: "s" },
      { area, metric: "wall time, MAX_CONCURRENT_PROVISIONS=4", value: parallel.wallSeconds, unit: "s" },
      {
        area,
        metric: "speed-up 4 vs 1 (wall-time ratio)",
        value: serial.wallSeconds / parallel.wallSeconds,
        unit: "×",
        target: "> 1.5",
        ok: serial.wallSeconds / parallel.wallSeconds > 1.5,
      },
    ];
  },
  async counts(): Promise<BenchRow[]> {
    const outcome = await provisionAll(4, COUNT_REQUESTS, 10);
    return countRows(`provisioning (Fly peer, ${COUNT_REQUESTS} requests)`, COUNT_REQUESTS, "4 at once", [outcome]);
  },
};
export default bench;
