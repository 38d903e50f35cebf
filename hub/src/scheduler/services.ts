import { urlHost } from "@thopter/protocol";
import type { RequestHandler, Router } from "express";
import type { Logger } from "pino";
import { AccessKeys, FLY_PLACEMENT, LOCAL_PLACEMENT } from "../access/index.js";
import { startCollector, TokenStore } from "../collector/index.js";
import type { HubConfig } from "../config.js";
import type { GithubApp } from "../github/app.js";
import { ThopterGithubTokens } from "../github/thopter-tokens.js";
import type { LogArchive } from "../logs/archive.js";
import type { HomeFile } from "../profiles/index.js";
import type { Provider } from "../providers/provider.js";
import { Reaper, Stopper } from "../reaper/index.js";
import { Registry, type RegistryOptions, reconcile, thoptersRouter } from "../registry/index.js";
import type { RequestQueue } from "../requests/queue.js";
import type { Store } from "../store/store.js";
import type { StoreHealth } from "../store/watched.js";
import { DailyBudget } from "./daily-budget.js";
import type { ProvisioningNotices } from "./provisioning-notices.js";
import { controlRouter } from "./routes.js";
import { Scheduler } from "./scheduler.js";
import { firewallEnv, specBuilder } from "./spec.js";

export type ServicesConfig = Pick<
  HubConfig,
  | "GITHUB_API_URL"
  | "integration"
  | "HUB_HOST"
  | "COLLECTOR_HOST"
  | "HUB_STATUS_PORT"
  | "MAX_THOPTERS"
  | "MAX_CONCURRENT_PROVISIONS"
  | "IDLE_TIMEOUT_MIN"
  | "MAX_LIFETIME_MIN"
  | "PROMPTS_DIR"
  | "THOPTER_ENV_FILE"
> &
  /** The dashboard's origin, allowed to embed thopters' terminals; unset: none besides their own. */
  Partial<
    Pick<
      HubConfig,
      | "HUB_PUBLIC_URL"
      | "ALLOWED_DOMAINS"
      | "DANGEROUSLY_SKIP_FIREWALL"
      | "BUDGET_GRACE_MIN"
      | "MAX_DAILY_COST_USD"
      | "prices"
      | "MAX_COST_USD"
    >
  >;

export interface ThopterServicesDeps {
  store: Store;
  queue: RequestQueue;
  provider: Provider;
  provisioningNotices: ProvisioningNotices;
  log: Logger;
  /** The thopter's boot command (the image's entrypoint, or a local script). */
  entrypoint: string[];
  /** How thopters reach the collector; by default derived from where it listens (see `collectorUrlFor`). */
  collectorUrl?: string;
  registry?: RegistryOptions;
  /** How often the scheduler looks at the queue besides its events. */
  pollMs?: number;
  /** The store's health (the hub's `WatchedStore`): once it lost data, the scheduler stops. */
  storeHealth?: () => StoreHealth;
  /** The repository's default branch (GET /repos, cached), so thopters need not ask. */
  defaultBranch?: (repo: string) => Promise<string>;
  /** A golden-claude profile's model credential for the agent's env file (see `SpecContext.profileEnv`). */
  profileEnv?: (gc: string) => Record<string, string>;
  /** A golden-claude profile's home files (see `SpecContext.profileHome`). */
  profileHome?: (gc: string) => Promise<HomeFile[] | undefined>;
  /** The dashboard-token check for pause/resume/stop; without it those routes are not mounted at all. */
  authorize?: RequestHandler;
  /** The GitHub App, for repositories configured without tokens: each thopter gets its own token. */
  githubApp?: GithubApp;
  /** Where the collector keeps thopters' streamed logs (`POST /v1/logs`); without it that route is not served. */
  archive?: LogArchive;
}

export interface ThopterServices {
  registry: Registry;
  tokens: TokenStore;
  /** Per-thopter keys for the web terminal and session log (the dashboard mints viewer tokens with them). */
  access: AccessKeys;
  scheduler: Scheduler;
  stopper: Stopper;
  reaper: Reaper;
  /** The collector server (its own `url` is where it listens). */
  collector: { url: string; close(): Promise<void> };
  /** The collector's address as thopters are told it. */
  collectorUrl: string;
  /** `GET /api/thopters[/:id]`, and with `authorize` the pause/resume/stop actions: to mount on the hub's app. */
  routers: Router[];
  stop(): Promise<void>;
}

/**
 * The address thopters post to. The collector listens on HUB_HOST; a wildcard address is not one a thopter can
 * dial, so on Fly the hub's private address (FLY_PRIVATE_IP) is used, and locally the loopback.
 */
export function collectorUrlFor(host: string, port: number, env: NodeJS.ProcessEnv = process.env): string {
  const wildcard = host === "0.0.0.0" || host === "::" || host === "";
  const address = wildcard ? (env.FLY_PRIVATE_IP ?? "127.0.0.1") : host;
  return `http://${urlHost(address)}:${port}`;
}

const originsOf = (url: string | undefined): string[] => (url ? [new URL(url).origin] : []);

/**
 * Everything after a request is stored: registry (reconciled with the provider, leftovers destroyed), collector on
 * HUB_STATUS_PORT, scheduler and reaper, started. The hub calls this once and mounts `routers`.
 */
export async function startThopterServices(
  config: ServicesConfig,
  deps: ThopterServicesDeps,
): Promise<ThopterServices> {
  const { store, queue, provider, provisioningNotices, log } = deps;
  const registry = await Registry.open(store, log, deps.registry);
  const tokens = await TokenStore.open(store);
  // Fly machines and containers each have their own address; local thopters share the host's.
  const access = await AccessKeys.open(store, provider.kind === "local" ? LOCAL_PLACEMENT : FLY_PLACEMENT);
  await access.prune((id) => {
    const state = registry.get(id)?.state;
    return state !== undefined && state !== "gone";
  });
  const report = await reconcile(registry, provider, log);
  for (const { machine, reason } of report.flagged) {
    log.warn({ machine: machine.ref.id, reason }, "destroying a machine the hub does not expect");
    await provider.destroy(machine.ref).catch((err) => log.error({ err, machine: machine.ref.id }, "destroy failed"));
  }
  const githubTokens = deps.githubApp && new ThopterGithubTokens(deps.githubApp, log);
  // Containers reach the host only at their network's gateway, which exists only while a container runs (Podman):
  // the collector listens on every address (its tokens guard it) and thopters are given the gateway; the dashboard
  // stays on HUB_HOST.
  const reachAt = await provider.hostAddress?.();
  const collectorHost = config.COLLECTOR_HOST ?? (reachAt ? "0.0.0.0" : config.HUB_HOST);
  const collector = await startCollector({
    registry,
    tokens,
    githubToken: async (id, repo) => (repositories.get(repo.toLowerCase()) ? undefined : githubTokens?.issue(id, repo)),
    log,
    archive: deps.archive,
    host: collectorHost,
    port: config.HUB_STATUS_PORT,
  });
  const collectorUrl =
    deps.collectorUrl ?? collectorUrlFor(reachAt ?? collectorHost, Number(new URL(collector.url).port));
  const repositories = new Map(
    Object.entries(config.integration.repositories).map(([repo, t]) => [repo.toLowerCase(), t.coderToken]),
  );
  const stopper = new Stopper({ registry, provider, tokens, githubTokens, log });
  const dailyBudget = new DailyBudget({
    records: () => registry.list(),
    capUsd: config.MAX_DAILY_COST_USD,
    prices: config.prices,
  });
  const scheduler = new Scheduler({
    dailyBudget,
    queue,
    registry,
    tokens,
    provider,
    stopper,
    provisioningNotices,
    buildSpec: specBuilder({
      collectorUrl,
      githubApiUrl: config.GITHUB_API_URL,
      promptsDir: config.PROMPTS_DIR,
      thopterEnvFile: config.THOPTER_ENV_FILE,
      agentUser: config.integration.agentUser,
      botIdentity: async (repo) =>
        repositories.get(repo.toLowerCase()) ? undefined : deps.githubApp?.botIdentity(repo),
      coderToken: async ({ id, repo }) =>
        repositories.get(repo.toLowerCase()) ?? (await githubTokens?.issue(id, repo))?.token,
      entrypoint: deps.entrypoint,
      access: { issue: (id) => access.issue(id), allowedOrigins: originsOf(config.HUB_PUBLIC_URL) },
      defaultBranch: deps.defaultBranch,
      profileEnv: deps.profileEnv,
      profileHome: deps.profileHome,
      thopterEnv: firewallEnv(config),
      model: config.MAX_COST_USD === undefined ? {} : { maxCostUsd: config.MAX_COST_USD },
    }),
    maxThopters: config.MAX_THOPTERS,
    maxConcurrentProvisions: config.MAX_CONCURRENT_PROVISIONS,
    log,
    pollMs: deps.pollMs,
    storeHealth: deps.storeHealth,
  });
  const reaper = new Reaper({
    registry,
    stopper,
    log,
    idleTimeoutMin: config.IDLE_TIMEOUT_MIN,
    maxLifetimeMin: config.MAX_LIFETIME_MIN,
    budgetGraceMin: config.BUDGET_GRACE_MIN,
    dailyBudget,
    removeProviderLeftovers: provider.removeLeftovers && (() => provider.removeLeftovers!()),
  });
  // The first command's provision needs the default branch: ask now rather than on the way to its machine.
  for (const repo of Object.keys(config.integration.repositories)) {
    void deps.defaultBranch?.(repo).catch(() => {});
  }
  scheduler.start();
  reaper.start();
  log.info({ collector: collector.url, collectorUrl, provider: provider.kind }, "thopter services started");
  return {
    registry,
    tokens,
    access,
    scheduler,
    stopper,
    reaper,
    collector,
    collectorUrl,
    routers: [
      thoptersRouter(registry),
      ...(deps.authorize ? [controlRouter({ scheduler, stopper, registry, authorize: deps.authorize })] : []),
    ],
    async stop() {
      await scheduler.stop();
      await reaper.stop();
      await collector.close();
      await registry.close();
    },
  };
}
