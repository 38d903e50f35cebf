import type { RepoFullName } from "@thopter/protocol";
import type { Logger } from "pino";
import type { HealthStatus } from "../http/routes/health.js";
import type { HubMetrics } from "../metrics.js";
import type { WatchedStore } from "../store/watched.js";
import { StoreError } from "../store/watched.js";
import type { RepoPoller } from "./poller.js";
import type { RepoHealthBook } from "./repo-health.js";

/** Work left half done (👀 not posted, replies not posted), retried after each cycle while any is pending. */
export interface Recoverable {
  readonly pending: boolean;
  recover(): Promise<number>;
}

export interface PollLoopDeps {
  repos: readonly RepoFullName[];
  /** One per repository, in the order of `repos`. */
  pollers: readonly RepoPoller[];
  store: WatchedStore;
  recoverables: readonly Recoverable[];
  intervalMs: number;
  /** Where each repository's poll results go (the GitHub part of /healthz). */
  book: RepoHealthBook;
  /** Aborted when the hub stops: a cycle cut short then is not a GitHub failure. */
  signal?: AbortSignal;
  metrics: HubMetrics;
  log: Logger;
}

/**
 * Polls every repository each interval, then retries pending recovery work. Owns the GitHub part of the hub's health:
 * how many cycles ran and which repositories' last cycle failed (and why).
 */
export class PollLoop {
  private cycleCount = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly deps: PollLoopDeps) {}

  /** The poll loop's part of /healthz: cycles run, and each repository's last cycle against GitHub. */
  health(): Pick<HealthStatus, "polls" | "repos" | "failing" | "github"> {
    const { repos, book } = this.deps;
    return {
      polls: this.cycleCount,
      repos: [...repos],
      failing: book.failing(),
      github: Object.fromEntries(repos.map((r) => [r, book.health(r)])),
    };
  }

  /** Retries everything left half done (at start: whatever a previous run left). */
  async recover(): Promise<void> {
    for (const r of this.deps.recoverables) await r.recover();
  }

  /** One poll cycle of every repository now, then recovery if anything is pending, as the timer would. */
  async cycle(): Promise<void> {
    const { store, pollers, repos, metrics, log, book } = this.deps;
    // A store that lost data is not written to again (it says so on /healthz); polling would only fail.
    if (store.health.state === "lost") return;
    const results = await Promise.allSettled(pollers.map((p) => p.cycle()));
    results.forEach((r, i) => {
      const repo = repos[i]!;
      if (r.status === "fulfilled") book.pollSucceeded(repo);
      else if (this.deps.signal?.aborted) {
        log.info({ repo }, "poll cycle cut short: the hub is stopping");
      } else if (r.reason instanceof StoreError) {
        // The store's failure, on the store's part of /healthz: this repository's GitHub side is not at fault.
        log.warn({ repo, part: "store", err: r.reason }, "poll cycle failed on the store; the next cycle retries");
      } else {
        const why = book.pollFailed(repo, r.reason);
        metrics.pollErrors.inc({ repo });
        log.warn(
          { repo, part: "github", why, err: r.reason },
          "poll cycle failed; the next cycle retries from the same cursor",
        );
      }
    });
    this.cycleCount++;
    if (!this.deps.signal?.aborted && this.deps.recoverables.some((r) => r.pending)) {
      await this.recover().catch((err) => log.warn({ err }, "recovery sweep failed"));
    }
  }

  /** Runs a cycle every interval from now on (the first one interval from now). */
  start(): void {
    this.timer = setTimeout(() => {
      this.running = this.cycle().finally(() => {
        if (!this.stopped) this.start();
      });
    }, this.deps.intervalMs);
  }

  /** Stops the timer and waits for a cycle under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
