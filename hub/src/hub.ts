import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { RepoFullName } from "@thopter/protocol";
import type { Logger } from "pino";
import { listPrompts } from "./commands/catalog.js";
import { configSecrets, type HubConfig } from "./config.js";
import { GitHubClients } from "./github/clients.js";
import { createApp } from "./http/app.js";
import { healthRouter } from "./http/routes/health.js";
import { metricsRouter } from "./http/routes/metrics.js";
import { requestsRouter } from "./http/routes/requests.js";
import { createLogger } from "./log.js";
import { createMetrics, type HubMetrics } from "./metrics.js";
import { Acknowledger } from "./requests/acknowledge.js";
import { Intake } from "./requests/intake.js";
import { RequestQueue } from "./requests/queue.js";
import { Replies } from "./requests/replies.js";
import { openStore } from "./store/index.js";
import type { Store } from "./store/store.js";
import { RepoPoller } from "./watcher/poller.js";
import { webhookRouter } from "./watcher/webhook.js";

/** What tests (or an embedding process) may supply instead of the defaults built from the config. */
export interface HubDeps {
  store?: Store;
  log?: Logger;
  /** Milliseconds per backoff "second" when GitHub answers 5xx (1 s, 4 s, 9 s… by default). */
  retryUnitMs?: number;
  /** How long one GitHub call may take before it is aborted and retried (30 s by default). */
  requestTimeoutMs?: number;
}

export interface Hub {
  /** `http://host:port` the HTTP server listens on (the real port when HUB_PORT is 0). */
  url: string;
  store: Store;
  queue: RequestQueue;
  metrics: HubMetrics;
  log: Logger;
  /** Runs one poll cycle of every repository now (and the recovery sweep), as the timer would. */
  pollNow(): Promise<void>;
  /** Stops polling, closes the HTTP server and the store (if the hub opened it). */
  stop(): Promise<void>;
}

/**
 * Starts the hub: store, GitHub clients, intake, the HTTP server, then recovery of anything a previous run left half
 * done (👀 not posted, replies not posted) and one poll cycle per repository, then the poll timer. Resolves after that
 * first cycle; errors from GitHub during start are logged and retried by later cycles, never fatal.
 */
export async function startHub(config: HubConfig, deps: HubDeps = {}): Promise<Hub> {
  const log = deps.log ?? createLogger({ level: config.LOG_LEVEL, secrets: configSecrets(config) });
  const store = deps.store ?? (await openStore(config.STORE_URL));
  const queue = new RequestQueue(store);
  const metrics = createMetrics(() => queue.list());
  const integration = config.GITHUB_INTEGRATION_JSON;
  const repos = Object.keys(integration.repositories) as RepoFullName[];
  const clients = new GitHubClients({
    baseUrl: config.GITHUB_API_URL,
    issuesTokens: Object.fromEntries(repos.map((r) => [r, integration.repositories[r]!.issuesToken])),
    log,
    retryUnitMs: deps.retryUnitMs,
    requestTimeoutMs: deps.requestTimeoutMs,
    onRateLimitRemaining: (repo, n) => metrics.rateLimitRemaining.set({ repo }, n),
  });
  const acknowledger = new Acknowledger(queue, clients, log);
  const replies = new Replies(store, clients, log);
  const intake = new Intake({
    queue,
    replies,
    acknowledger,
    clients,
    log,
    authorizedUsers: integration.authorizedUsers,
    catalog: async () => ({ prompts: await listPrompts(config.PROMPTS_DIR), goldenClaudes: config.GOLDEN_CLAUDES }),
  });
  const handle = (event: Parameters<Intake["handle"]>[0]) => intake.handle(event);
  const pollers = repos.map((repo) => new RepoPoller({ repo, client: clients.get(repo), store, handle, metrics, log }));

  let cycles = 0;
  const failing = new Set<string>();
  const sweep = async () => {
    const left = (await acknowledger.recover()) + (await replies.recover());
    intake.pendingWork = left > 0;
  };
  const pollNow = async () => {
    const results = await Promise.allSettled(pollers.map((p) => p.cycle()));
    results.forEach((r, i) => {
      if (r.status === "fulfilled") failing.delete(repos[i]!);
      else {
        failing.add(repos[i]!);
        metrics.pollErrors.inc({ repo: repos[i]! });
        log.warn({ repo: repos[i], err: r.reason }, "poll cycle failed; the next cycle retries from the same cursor");
      }
    });
    cycles++;
    if (intake.pendingWork) await sweep().catch((err) => log.warn({ err }, "recovery sweep failed"));
  };

  const routers = [
    healthRouter(() => ({ polls: cycles, repos, failing: [...failing] })),
    metricsRouter(metrics.registry),
    requestsRouter(queue),
  ];
  if (config.GITHUB_WEBHOOK_SECRET) {
    const byLowerName = new Map(repos.map((r) => [r.toLowerCase(), r]));
    routers.push(
      webhookRouter({
        secret: config.GITHUB_WEBHOOK_SECRET,
        resolveRepo: (name) => byLowerName.get(name.toLowerCase()),
        handle,
        metrics,
        log,
      }),
    );
  }
  const server = await listen(createApp(log, routers), config.HUB_HOST, config.HUB_PORT);
  const { port } = server.address() as AddressInfo;
  const host = config.HUB_HOST.includes(":") ? `[${config.HUB_HOST}]` : config.HUB_HOST;
  const url = `http://${host}:${port}`;

  // Serving already (health, webhook) while the first sweep and cycle run; they may wait out a GitHub outage.
  await sweep().catch((err) => log.warn({ err }, "recovery at start failed; retried after the next poll"));
  await pollNow();

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = () => {
    timer = setTimeout(() => {
      running = pollNow().finally(() => {
        if (!stopped) schedule();
      });
    }, config.POLL_INTERVAL_MS);
  };
  schedule();
  log.info(
    { url, repos, pollIntervalMs: config.POLL_INTERVAL_MS, webhook: Boolean(config.GITHUB_WEBHOOK_SECRET) },
    "hub started",
  );

  return {
    url,
    store,
    queue,
    metrics,
    log,
    pollNow,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      await running;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!deps.store) await store.close();
      log.info("hub stopped");
    },
  };
}

function listen(app: ReturnType<typeof createApp>, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
  });
}
