// `/thopter` comment → provision call latency, by webhook and by polling: a whole hub (startHub: watcher, intake,
// store, 👀, scheduler) against the GitHub peer, whose provider only notes when `create` is called. Commands come one
// at a time, as from people on a quiet hub that has served HISTORY commands before; between two, the hub's GitHub
// writes (👀, 🚀) keep their ≥ 1 s spacing.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { loadConfig } from "@thopter/hub/config";
import { startHub } from "@thopter/hub/hub";
import { RequestQueue } from "@thopter/hub/requests/queue";
import { openStore } from "@thopter/hub/store/index";
import { pino } from "pino";
import { BOT, CODER_TOKEN, hubEnv, ISSUES_TOKEN, REPO, until, WEBHOOK_SECRET } from "../integration/hub/harness.js";
import { RecordingProvider } from "../integration/hub/recording-provider.js";
import { startGithubPeer } from "../peers/github/index.js";
import type { Bench, BenchRow } from "./bench.js";

const WEBHOOK_SAMPLES = 50;
const POLL_SAMPLES = 20;
const POLL_INTERVAL_MS = 500;
const TARGET_WEBHOOK_P99_MS = 200;
/** docs/architecture.md#performance: poll → provision call ≤ interval + 1 s (a comment waits up to one interval to be seen). */
const TARGET_POLL_MS = POLL_INTERVAL_MS + 1000;
const area = "command → provision call";
/** Requests a hub that has run a while holds (they are never deleted): the scheduler looks at the queue each time. */
const HISTORY = 1_000;

/** Fills the store at `url` with HISTORY finished requests, as earlier commands would have left it. */
async function storeHistory(url: string): Promise<void> {
  const store = await openStore(url);
  try {
    const queue = new RequestQueue(store);
    for (let batch = 0; batch < HISTORY; batch += 100) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const n = batch + i;
          const source = {
            repo: REPO,
            issueNumber: 1,
            commentId: 1 + n,
            author: "alice",
            authorAssociation: "OWNER" as const,
            url: `https://github.test/${REPO}/issues/1#issuecomment-${1 + n}`,
            via: "poll" as const,
            createdAt: new Date(Date.now() - 86_400_000 + n).toISOString(),
          };
          const { request } = await queue.create(source, "Earlier work", START);
          await queue.markAcknowledged(request.id);
          await queue.update(request.id, { state: "provisioned", thopterIds: [`old${n}-1`] });
        }),
      );
    }
  } finally {
    await store.close();
  }
}
const START = { kind: "start", gc: "default", prompt: "default", count: 1, instructions: "" } as const;

/**
 * Milliseconds from each command comment appearing on the peer (for a webhook: its signed delivery going out) to
 * `provider.create` for it, one command at a time; the first command after start is kept apart (it learns the
 * bot's login and warms the hub's code paths).
 */
async function latencies(via: "webhook" | "poll", samples: number): Promise<{ first: number; warm: number[] }> {
  const peer = await startGithubPeer();
  const dir = await mkdtemp(join(tmpdir(), "command-latency-bench-"));
  const provider = new RecordingProvider();
  try {
    await peer.addRepo(REPO, { issuesToken: ISSUES_TOKEN, coderToken: CODER_TOKEN, bot: { login: BOT } });
    const issue = Number(
      peer.createIssue(REPO, { title: "Widgets wobble", author: "alice", association: "OWNER" }).number,
    );
    const watcher: Record<string, string> = via === "webhook" ? { GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET } : {};
    const config = loadConfig(
      hubEnv(peer.url, dir, {
        ...watcher,
        // Webhook: no poll cycle during the run, so every command comes by its delivery.
        POLL_INTERVAL_MS: String(via === "poll" ? POLL_INTERVAL_MS : 3_600_000),
        MAX_THOPTERS: String(samples + 2),
        LOG_LEVEL: "silent",
      }),
    );
    await storeHistory(config.STORE_URL);
    const hub = await startHub(config, {
      log: pino({ level: "silent" }),
      provider,
      entrypoint: ["/bin/true"],
      announce: () => {},
    });
    if (via === "webhook") peer.deliverTo(`${hub.url}/github/webhook`, WEBHOOK_SECRET);
    const scheduler = hub.thopters!.scheduler;
    const times: number[] = [];
    try {
      for (let i = 0; i <= samples; i++) {
        // A quiet hub: the last command's delivery answered, its 👀 and 🚀 posted.
        await peer.deliveriesSettled();
        await scheduler.idle();
        const created = provider.nextCreate();
        // addComment validates the delivery against GitHub's schema before returning; the delivery goes out after.
        const comment = Number(
          peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" }).id,
        );
        const start = performance.now();
        times.push((await created) - start);
        await until(() => peer.reactions(REPO, { comment }).length === 2, 30_000, "👀 and 🚀 on the command");
      }
    } finally {
      await hub.stop();
    }
    peer.assertClean();
    const [first, ...warm] = times;
    return { first: first!, warm: warm.sort((a, b) => a - b) };
  } finally {
    await peer.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const bench: Bench = {
  name: "command-latency",
  async run(): Promise<BenchRow[]> {
    const webhook = await latencies("webhook", WEBHOOK_SAMPLES);
    const poll = await latencies("poll", POLL_SAMPLES);
    const webhookP99 = percentile(webhook.warm, 99);
    const pollP99 = percentile(poll.warm, 99);
    const interval = `POLL_INTERVAL_MS=${POLL_INTERVAL_MS}`;
    return [
      { area, metric: "webhook, first command after start", value: webhook.first, unit: "ms" },
      { area, metric: `webhook p50 (${WEBHOOK_SAMPLES} commands)`, value: percentile(webhook.warm, 50), unit: "ms" },
      {
        area,
        metric: `webhook p99 (${WEBHOOK_SAMPLES} commands)`,
        value: webhookP99,
        unit: "ms",
        target: `< ${TARGET_WEBHOOK_P99_MS} ms`,
        ok: webhookP99 < TARGET_WEBHOOK_P99_MS,
      },
      {
        area,
        metric: `poll p50 (${POLL_SAMPLES} commands, ${interval})`,
        value: percentile(poll.warm, 50),
        unit: "ms",
        target: "bounded by the interval",
      },
      {
        area,
        metric: `poll p99 (${POLL_SAMPLES} commands, ${interval})`,
        value: pollP99,
        unit: "ms",
        target: `≤ interval + 1 s = ${TARGET_POLL_MS} ms`,
        ok: pollP99 <= TARGET_POLL_MS,
      },
    ];
  },
};
export default bench;
