import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TokenStore } from "@thopter/hub/collector/index";
import { GitHubClients } from "@thopter/hub/github/clients";
import { LocalProvider } from "@thopter/hub/providers/local/local-provider";
import type { Provider } from "@thopter/hub/providers/provider";
import { Reaper, type Stopper } from "@thopter/hub/reaper/index";
import type { Registry } from "@thopter/hub/registry/index";
import { DurableComments } from "@thopter/hub/requests/durable-comments";
import { githubProvisioningNotices, type Scheduler, startThopterServices } from "@thopter/hub/scheduler/index";
import type { ThopterRecord } from "@thopter/protocol";
import { pino } from "pino";
import { afterEach } from "vitest";
import { assertNoProcessesMentioning } from "../../helpers/leftovers.js";
import { ISSUES_TOKEN, REPO, type Setup, setup } from "../hub/harness.js";
import { SIM } from "./fixtures.js";

export { diesAfterCreate, SIM, wrapProvider } from "./fixtures.js";

export interface LifecycleOptions {
  maxThopters?: number;
  maxConcurrentProvisions?: number;
  /** Wraps the provider (to count, slow down or break its calls). */
  wrap?: (provider: Provider) => Provider;
  /** The provider to run on instead of a local provider in a fresh directory (the Fly provider and peer). */
  base?: Provider;
  /** Hub variables for the intake hub and the services (e.g. STORE_URL for Redis); only the first run reads them. */
  env?: Record<string, string>;
}

/** The scheduler side of one hub run; `restart` makes the next run on the same store and machines. */
export interface HubRun {
  registry: Registry;
  tokens: TokenStore;
  scheduler: Scheduler;
  stopper: Stopper;
  reaper(now: Date, limits?: { idleTimeoutMin?: number; maxLifetimeMin?: number; orphanGraceMin?: number }): Reaper;
  /** Stops listening and scheduling without waiting for anything under way: what a killed hub leaves. */
  abandon(): Promise<void>;
  close(): Promise<void>;
}

export interface Lifecycle {
  s: Setup;
  run: HubRun;
  /** The local provider as the scheduler sees it (wrapped). */
  provider: Provider;
  /** Machine directories under LOCAL_THOPTER_ROOT: a machine's "volume". */
  machineDirs(): Promise<string[]>;
  /** `/thopter …` by the repository owner; returns the comment id. */
  command(body: string): number;
  /** Polls GitHub, then lets the scheduler run until it has nothing more to do. */
  settle(): Promise<void>;
  record(id: string): Readonly<ThopterRecord> | undefined;
  /** Starts a new hub run on the same store and machines (the old one is abandoned as a killed process would be). */
  restart(options?: LifecycleOptions): Promise<HubRun>;
  close(): Promise<void>;
}

const log = pino({ level: process.env.LIFECYCLE_LOG ?? "silent" });

export async function startLifecycle(options: LifecycleOptions = {}): Promise<Lifecycle> {
  const s = await setup(options.env);
  const root = await mkdtemp(join(tmpdir(), "lifecycle-machines-"));
  const local = options.base ?? new LocalProvider({ root, log, stopGraceMs: 1_000 });
  const clients = new GitHubClients({
    baseUrl: s.peer.url,
    issuesTokens: { [REPO]: ISSUES_TOKEN },
    log,
    retryUnitMs: 20,
  });
  const replies = new DurableComments(s.hub.store, clients, log);
  const provisioningNotices = githubProvisioningNotices(clients, replies, log);
  const runs: HubRun[] = [];
  const abandoned = new Set<HubRun>();
  let provider = (options.wrap ?? ((p) => p))(local);

  async function startRun(opts: LifecycleOptions): Promise<HubRun> {
    provider = (opts.wrap ?? ((p) => p))(local);
    const config = {
      ...s.config,
      MAX_THOPTERS: opts.maxThopters ?? 10,
      MAX_CONCURRENT_PROVISIONS: opts.maxConcurrentProvisions ?? 4,
      THOPTER_ENV_FILE: join(root, "no-such.env"),
    };
    const services = await startThopterServices(config, {
      store: s.hub.store,
      queue: s.hub.queue,
      provider,
      provisioningNotices,
      log,
      storeHealth: () => s.hub.store.health,
      entrypoint: [process.execPath, SIM],
      // No periodic checkpoint: an abandoned run (a "killed" hub) must not write anything after its successor starts.
      registry: { checkpointMs: 3_600_000 },
      pollMs: 60_000,
    });
    const { registry, stopper, scheduler } = services;
    const run: HubRun = {
      registry,
      tokens: services.tokens,
      scheduler,
      stopper,
      reaper: (now, limits = {}) =>
        new Reaper({
          registry,
          stopper,
          log,
          idleTimeoutMin: limits.idleTimeoutMin ?? 60,
          maxLifetimeMin: limits.maxLifetimeMin ?? 720,
          orphanGraceMin: limits.orphanGraceMin ?? 10,
          now: () => now,
        }),
      async abandon() {
        void scheduler.stop();
        void services.reaper.stop();
        await services.collector.close();
      },
      close: () => services.stop(),
    };
    runs.push(run);
    return run;
  }

  const lifecycle: Lifecycle = {
    s,
    run: await startRun(options),
    get provider() {
      return provider;
    },
    machineDirs: async () => (await readdir(root)).sort(),
    command: (body) => Number(s.peer.addComment(REPO, s.issue, { body, author: "alice", association: "OWNER" }).id),
    async settle() {
      await s.hub.pollNow();
      lifecycle.run.scheduler.wake();
      await lifecycle.run.scheduler.idle();
    },
    record: (id) => lifecycle.run.registry.get(id),
    async restart(opts = options) {
      await lifecycle.run.abandon();
      abandoned.add(lifecycle.run);
      lifecycle.run = await startRun(opts);
      return lifecycle.run;
    },
    async close() {
      for (const machine of await local.list()) await local.destroy(machine.ref).catch(() => {});
      await Promise.allSettled(runs.filter((r) => !abandoned.has(r)).map((r) => r.close()));
      await s.close();
      await rm(root, { recursive: true, force: true });
      await assertNoProcessesMentioning(root);
    },
  };
  return lifecycle;
}

/** Per test: `start` makes the test's lifecycle (read it as `l`), closed after the test unless `close`d before. */
export function useLifecycle(): {
  readonly l: Lifecycle;
  start(options?: LifecycleOptions): Promise<Lifecycle>;
  close(): Promise<void>;
} {
  let current: Lifecycle | undefined;
  const close = async () => {
    await current?.close();
    current = undefined;
  };
  afterEach(close);
  return {
    get l() {
      if (!current) throw new Error("no lifecycle started in this test");
      return current;
    },
    async start(options = {}) {
      current = await startLifecycle(options);
      return current;
    },
    close,
  };
}
