import type { ThopterRecord, ThopterState } from "@thopter/protocol";
import type { Logger } from "pino";
import type { Registry } from "../registry/index.js";
import { DAILY_BUDGET_STOP, type DailyBudget } from "../scheduler/daily-budget.js";
import type { Stopper } from "./stop.js";

export interface ReaperOptions {
  registry: Registry;
  stopper: Stopper;
  log: Logger;
  /** IDLE_TIMEOUT_MIN: done, blocked, waiting or failed for this long → stopped. */
  idleTimeoutMin: number;
  /** MAX_LIFETIME_MIN: this old → stopped, whatever it is doing. */
  maxLifetimeMin: number;
  /** MAX_DAILY_COST_USD: once reached, every running thopter is stopped (and its issue told). */
  dailyBudget?: DailyBudget;
  /** BUDGET_GRACE_MIN: this long after the model proxy reported its budget spent → stopped (default 5). */
  budgetGraceMin?: number;
  /** A booting or working thopter with no status report for this long is an orphan → stopped. */
  orphanGraceMin?: number;
  intervalMs?: number;
  now?: () => Date;
  /**
   * Removes the provider's own leftovers (Fly: volumes no machine holds, left when a destroy failed half-way), run on
   * the first pass and every `removeLeftoversEvery` passes after it.
   */
  removeProviderLeftovers?: () => Promise<unknown>;
  removeLeftoversEvery?: number;
}

/** States in which nobody is working: the idle clock runs from when the thopter entered one. */
const IDLE: readonly ThopterState[] = ["done", "blocked", "waiting", "failed"];
/** States in which the observer should be reporting (at least its heartbeat). */
const REPORTING: readonly ThopterState[] = ["booting", "working"];

/** Why a thopter should be stopped now, or undefined. Provisioning ones belong to the scheduler. */
export function reapReason(
  record: Readonly<ThopterRecord>,
  now: number,
  limits: {
    idleTimeoutMin: number;
    maxLifetimeMin: number;
    orphanGraceMin: number;
    budgetGraceMin: number;
    /** Set while the swarm's daily budget is spent: the reason every running thopter is stopped for. */
    dailyBudgetSpent?: string;
  },
): string | undefined {
  const minutesSince = (iso: string) => (now - Date.parse(iso)) / 60_000;
  if (record.state === "stopping") return record.stateReason ?? "finishing an interrupted stop";
  if (record.state === "gone" || record.state === "requested" || record.state === "provisioning") return undefined;
  if (limits.dailyBudgetSpent) return limits.dailyBudgetSpent;
  // Whatever it does after (a human's prompt revives it, the proxy still refuses): the grace is all it gets.
  if (record.budgetSpentAt && minutesSince(record.budgetSpentAt) >= limits.budgetGraceMin) {
    return `its model budget (MAX_COST_USD) is spent; stopped ${limits.budgetGraceMin} min after the model proxy said so`;
  }
  if (minutesSince(record.createdAt) >= limits.maxLifetimeMin) {
    return `reached the maximum lifetime of ${limits.maxLifetimeMin} min`;
  }
  if (IDLE.includes(record.state) && minutesSince(record.stateSince) >= limits.idleTimeoutMin) {
    return `${record.state} for more than ${limits.idleTimeoutMin} min (idle timeout)`;
  }
  const heardFrom = record.lastReportAt ?? record.stateSince;
  if (REPORTING.includes(record.state) && minutesSince(heardFrom) >= limits.orphanGraceMin) {
    return `no status report for ${limits.orphanGraceMin} min (orphaned)`;
  }
  return undefined;
}

function dailyStopReason(budget: DailyBudget | undefined): string | undefined {
  const spent = budget?.reached();
  if (!spent) return undefined;
  return `${DAILY_BUDGET_STOP} ($${spent.spentUsd.toFixed(2)} of $${spent.capUsd.toFixed(2)}); it resets at ${spent.resetsAt}`;
}

/** Periodically stops thopters that are idle too long, too old, or orphaned; and finishes interrupted stops. */
export class Reaper {
  private timer: NodeJS.Timeout | undefined;
  private reaping: Promise<void> | undefined;
  private passes = 0;

  constructor(private readonly options: ReaperOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.reap(), this.options.intervalMs ?? 30_000);
    this.timer.unref();
  }

  /** One pass over every thopter; resolves when the stops it started have finished (or failed). */
  reap(): Promise<void> {
    this.reaping ??= this.run().finally(() => {
      this.reaping = undefined;
    });
    return this.reaping;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.reaping;
  }

  private async run(): Promise<void> {
    const { registry, stopper, log } = this.options;
    const now = (this.options.now?.() ?? new Date()).getTime();
    const limits = {
      idleTimeoutMin: this.options.idleTimeoutMin,
      maxLifetimeMin: this.options.maxLifetimeMin,
      orphanGraceMin: this.options.orphanGraceMin ?? 10,
      budgetGraceMin: this.options.budgetGraceMin ?? 5,
      dailyBudgetSpent: dailyStopReason(this.options.dailyBudget),
    };
    const stops = registry.list().flatMap((record) => {
      const reason = reapReason(record, now, limits);
      return reason === undefined ? [] : [{ id: record.id, reason }];
    });
    await Promise.all(
      stops.map(({ id, reason }) =>
        stopper
          .stop(id, reason)
          .catch((err) => log.warn({ thopterId: id, err }, "reaper could not stop thopter; will retry")),
      ),
    );
    const { removeProviderLeftovers, removeLeftoversEvery = 10 } = this.options;
    if (removeProviderLeftovers && this.passes++ % removeLeftoversEvery === 0) {
      await removeProviderLeftovers().catch((err) =>
        log.warn({ err }, "removing provider leftovers failed; will retry"),
      );
    }
  }
}
