import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { NftCommand } from "@thopter/agent/firewall/nft";
import type { RepoFullName } from "@thopter/protocol";
import type { Logger } from "pino";
import { dashboardLogin, loadDashboardToken, stateDir } from "./access/dashboard-token.js";
import { accessViewers } from "./access/index.js";
import { guardDashboardPort } from "./access/port-guard.js";
import { listPrompts } from "./commands/catalog.js";
import { configSecrets, type HubConfig } from "./config.js";
import { createDashboard, DashboardAuth } from "./dashboard/index.js";
import { connectGitHub } from "./github/connect.js";
import { createApp } from "./http/app.js";
import { listenOn } from "./http/listen-port.js";
import { apiGuard } from "./http/routes/guard.js";
import { type HealthStatus, healthRouter, healthWarnings, registerHealthGauge } from "./http/routes/health.js";
import { metricsRouter } from "./http/routes/metrics.js";
import { requestsRouter } from "./http/routes/requests.js";
import { registerThopterGauge } from "./http/thopter-metrics.js";
import { createLogger } from "./log.js";
import { LOG_ARCHIVE_DIR, LogArchive } from "./logs/archive.js";
import { createMetrics, type HubMetrics } from "./metrics.js";
import { budgetTerms, Notifier, RepoInfoCache } from "./notifier/index.js";
import { Profiles, readProfilesFile } from "./profiles/index.js";
import { createProvider, type Provider } from "./providers/index.js";
import { Acknowledger } from "./requests/acknowledge.js";
import { DurableComments } from "./requests/durable-comments.js";
import { Intake } from "./requests/intake.js";
import { LiveFollowUps } from "./requests/live-follow-ups.js";
import { RequestQueue } from "./requests/queue.js";
import { Retention } from "./requests/retention.js";
import { githubProvisioningNotices, startThopterServices, type ThopterServices } from "./scheduler/index.js";
import { openStore } from "./store/index.js";
import type { Store } from "./store/store.js";
import { WatchedStore } from "./store/watched.js";
import { PollLoop } from "./watcher/poll-loop.js";
import { repoPollers } from "./watcher/pollers.js";
import { webhookRouter } from "./watcher/webhook.js";

/** What tests (or an embedding process) may supply instead of the defaults built from the config. */
export interface HubDeps {
  store?: Store;
  log?: Logger;
  /** Milliseconds per backoff "second" when GitHub answers 5xx (1 s, 4 s, 9 s… by default). */
  retryUnitMs?: number;
  /** How long one GitHub write may take before it is aborted and retried (30 s by default). */
  requestTimeoutMs?: number;
  /** Aborting it stops the hub's GitHub requests in flight (a signal during start: the first cycle ends at once). */
  signal?: AbortSignal;
  /** The machines' provider instead of the one PROVIDER names. */
  provider?: Provider;
  /** The thopter's boot command instead of the repository's `thopter/entrypoint.sh` (tests: a stand-in script). */
  entrypoint?: string[];
  /**
   * `false`: an intake-only hub (watcher, requests, replies; no scheduler, provider, collector or reaper), for tests
   * of the GitHub side alone and harnesses that run the thopter services themselves on the hub's store.
   */
  thopters?: false;
  /** Where the login URL goes at start (default: one line on stderr, apart from the JSON log, which never has it). */
  announce?: (line: string) => void;
  /** How nft is run for the dashboard port guard (tests: one that fails). */
  nft?: NftCommand;
}

/** `thopter/entrypoint.sh` beside this package, from hub/src (sources) or hub/dist/src (built). */
export function defaultEntrypoint(): string[] {
  const hubRoot = import.meta.dirname.replace(/[\\/](dist[\\/])?src$/, "");
  return [join(hubRoot, "..", "thopter", "entrypoint.sh")];
}

export interface Hub {
  /** `http://host:port` the HTTP server listens on (the real port when HUB_PORT is 0). */
  url: string;
  /** The dashboard token (DASHBOARD_TOKEN, or the generated one), for `Authorization: Bearer` and `?token=`. */
  dashboardToken: string;
  /** The dashboard's address with `?token=`: opening it logs a browser in. */
  loginUrl: string;
  /** The store, watched: its `health` is the store's part of /healthz. */
  store: WatchedStore;
  queue: RequestQueue;
  metrics: HubMetrics;
  log: Logger;
  /** Registry, scheduler, collector (`collectorUrl`), stopper and reaper; absent on an intake-only hub. */
  thopters?: ThopterServices;
  /** Runs one poll cycle of every repository now (and the recovery sweep), as the timer would. */
  pollNow(): Promise<void>;
  /** Stops polling, the HTTP server, the thopter services (machines keep running), and the store (if the hub opened it). */
  stop(): Promise<void>;
}

/**
 * Starts the hub: store, GitHub clients, the thopter services (registry reconciled with the provider, collector on
 * HUB_STATUS_PORT, scheduler, reaper), intake, the HTTP server, then recovery of anything a previous run left half
 * done (👀 not posted, replies not posted) and one poll cycle per repository, then the poll timer. Resolves after that
 * first cycle; errors from GitHub during start are logged and retried by later cycles, never fatal.
 */
export async function startHub(config: HubConfig, deps: HubDeps = {}): Promise<Hub> {
  const profiles = new Profiles(readProfilesFile(config.PROFILES_FILE), config.PROFILE_HOMES_DIR);
  const dashboardToken = await loadDashboardToken(config.DASHBOARD_TOKEN, stateDir(config.STORE_URL));
  const log =
    deps.log ??
    createLogger({
      level: config.LOG_LEVEL,
      secrets: [...configSecrets(config), ...profiles.secrets, dashboardToken.token],
    });
  const auth = new DashboardAuth(dashboardToken.token, config.HUB_PUBLIC_URL);
  // What this host cannot give (the provider's, then the dashboard port guard's once the hub listens); every
  // dashboard page shows them.
  const hostWarnings: string[] = [];
  profiles.warnExpiring(log);
  const goldenClaudes = profiles.acceptedNames(config.GOLDEN_CLAUDES);
  const store = new WatchedStore(deps.store ?? (await openStore(config.STORE_URL)), log);
  await store.watch(config.STORE_CHECK_MS);
  const queue = new RequestQueue(store);
  // Either side may find the loss first: the queue (a request gone) or the store (its generation marker).
  queue.on("lost", (err) => store.markLost(err.message));
  store.on("lost", () => queue.forget());
  const metrics = createMetrics(() => queue.list());
  const integration = config.integration;
  const { app, repos, appRepos, clients, book, ...github } = connectGitHub(config, { ...deps, metrics, log });
  // Named at start (and on the dashboard): a repository the App cannot reach would otherwise only fail its polls.
  // Not waited for: the hub serves at once, however long GitHub takes (the first poll cycle waits for it anyway).
  for (const repo of appRepos) {
    app!.installationId(repo).catch((err: Error) => github.signal.aborted || log.error({ repo }, err.message));
  }
  const acknowledger = new Acknowledger(queue, clients, log);
  const replies = new DurableComments(store, clients, log);
  const repoInfo = new RepoInfoCache(clients);
  const archive = new LogArchive({
    dir: join(stateDir(config.STORE_URL), LOG_ARCHIVE_DIR),
    maxBytes: config.LOG_ARCHIVE_MAX_MB * 1024 * 1024,
    retentionDays: config.STORE_RETENTION_DAYS,
  });
  const notices = githubProvisioningNotices(clients, replies, log);
  const provider = deps.thopters === false ? undefined : (deps.provider ?? createProvider(config, log));
  hostWarnings.push(...(provider?.warnings ?? []));
  const thopters =
    provider === undefined
      ? undefined
      : await startThopterServices(config, {
          store,
          queue,
          provider,
          provisioningNotices: notices,
          log,
          storeHealth: () => store.health,
          entrypoint: deps.entrypoint ?? config.THOPTER_ENTRYPOINT ?? provider.entrypoint ?? defaultEntrypoint(),
          profileEnv: (gc) => profiles.credentialEnv(gc),
          profileHome: (gc) => profiles.home(gc),
          githubApp: app,
          defaultBranch: async (repo) => (await repoInfo.get(repo as RepoFullName)).defaultBranch,
          authorize: auth.guardAction,
          archive,
        });
  if (thopters) registerThopterGauge(metrics.registry, thopters.registry, config.prices);
  const intake = new Intake({
    ...{ queue, replies, acknowledger, clients, log },
    authorizedUsers: integration.authorizedUsers,
    thopters: () => thopters?.registry.list() ?? [],
    followUps: thopters && new LiveFollowUps({ registry: thopters.registry, queue, notices, replies, log }),
    maxCommandAgeMs: config.STORE_RETENTION_DAYS * 86_400_000,
    catalog: async () => ({ prompts: await listPrompts(config.PROMPTS_DIR), goldenClaudes }),
  });
  // The scheduler hears of a stored request from the queue's events.
  const handle = (event: Parameters<Intake["handle"]>[0]) => intake.handle(event);
  const pollers = repoPollers(repos, { clients, registry: thopters?.registry, store, handle, metrics, log });
  const pollLoop = new PollLoop({
    repos,
    pollers,
    store,
    recoverables: [acknowledger, replies],
    intervalMs: config.POLL_INTERVAL_MS,
    book,
    signal: github.signal,
    metrics,
    log,
  });
  const health = (): HealthStatus => ({
    ...pollLoop.health(),
    store: store.health,
    provider: thopters?.scheduler.providerHealth,
  });
  registerHealthGauge(metrics.registry, health);
  // Results go back to the issue, and the swarm is on the dashboard, wherever thopters run.
  const budget = { ...budgetTerms(config), prices: config.prices };
  const notifier =
    thopters && new Notifier({ registry: thopters.registry, replies, clients, repoInfo, config, log, budget });
  const dashboard =
    thopters &&
    createDashboard({
      registry: thopters.registry,
      queue,
      scheduler: thopters.scheduler,
      stopper: thopters.stopper,
      auth,
      config,
      isolation: provider?.isolation,
      hostWarnings,
      viewers: accessViewers(thopters.access),
      archive,
      // The failing parts, then what the GitHub App cannot do (not installed somewhere, the clock off).
      healthWarnings: () => [...healthWarnings(health()), ...(app?.warnings() ?? [])],
      health,
      log,
    });
  const routers = [
    healthRouter(health),
    apiGuard(auth),
    metricsRouter(metrics.registry),
    requestsRouter(queue),
    ...(thopters?.routers ?? []),
    ...(dashboard ? [dashboard.router] : []),
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
        onSignature: (good, repo) => (good ? book.webhookAccepted(repo) : book.webhookRefused(repo)),
      }),
    );
  }
  const http = await listenOn("HUB_PORT", createServer(createApp(log, routers)), config.HUB_PORT, config.HUB_HOST);
  const { url } = http;
  const { port } = http.server.address() as AddressInfo;
  // Local thopters share this host: their uids are kept off the dashboard port (they keep the collector).
  const guard =
    provider?.kind === "local"
      ? await guardDashboardPort({
          port,
          range: config.LOCAL_THOPTER_UID_RANGE,
          log,
          nft: deps.nft,
        })
      : undefined;
  if (guard?.warning) hostWarnings.push(guard.warning);
  const base = new URL(config.HUB_PUBLIC_URL).port === "0" ? url : config.HUB_PUBLIC_URL;
  const login = dashboardLogin(dashboardToken, base);
  (deps.announce ?? ((line: string) => process.stderr.write(`${line}\n`)))(login.line);
  if (dashboardToken.generated) log.info({ file: dashboardToken.file }, "dashboard token generated");
  dashboard?.attach(http.server);
  await notifier?.start();

  // Serving already (health, webhook) while the first sweep and cycle run; they may wait out a GitHub outage.
  await pollLoop.recover().catch((err) => log.warn({ err }, "recovery at start failed; retried after the next poll"));
  await pollLoop.cycle();
  pollLoop.start();
  let stopped = false;
  const retention = new Retention({
    store,
    queue,
    registry: thopters?.registry,
    days: config.STORE_RETENTION_DAYS,
    archive: thopters && archive,
    log,
  });
  retention.start();
  log.info(
    {
      url,
      repos,
      collectorUrl: thopters?.collectorUrl,
      pollIntervalMs: config.POLL_INTERVAL_MS,
      webhook: Boolean(config.GITHUB_WEBHOOK_SECRET),
    },
    "hub started",
  );

  return {
    url,
    dashboardToken: dashboardToken.token,
    loginUrl: login.url,
    store,
    queue,
    metrics,
    log,
    thopters,
    pollNow: () => pollLoop.cycle(),
    async stop() {
      if (stopped) return;
      stopped = true;
      github.stop();
      await pollLoop.stop();
      await retention.stop();
      await notifier?.stop();
      await dashboard?.close();
      await http.close();
      await guard?.close();
      await thopters?.stop();
      if (deps.store) store.unwatch();
      else await store.close();
      log.info("hub stopped");
    },
  };
}
