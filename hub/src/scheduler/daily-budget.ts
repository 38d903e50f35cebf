import { costOf, DEFAULT_PRICES, type PriceTable, type ThopterRecord } from "@thopter/protocol";
import { trustedUsage } from "../notifier/budget-notice.js";

/** MAX_DAILY_COST_USD, reached: what was spent and when the day (UTC) ends. */
export interface DailySpent {
  spentUsd: number;
  capUsd: number;
  resetsAt: string;
}

/** The reason a thopter is stopped for the daily cap (the notifier knows such stops by it). */
export const DAILY_BUDGET_STOP = "the swarm's daily budget (MAX_DAILY_COST_USD) is spent";

const DAY_MS = 86_400_000;

/**
 * The swarm's spend today (UTC) against MAX_DAILY_COST_USD. A thopter counts with all its usage (the proxy's figure,
 * else the transcript's) on every day it reported usage: one that ran across midnight counts on both days, so the
 * cap errs on the side of spending less. Read from the records, so a restarted hub knows it at once.
 */
export class DailyBudget {
  constructor(
    private readonly opts: {
      records: () => Iterable<Readonly<ThopterRecord>>;
      capUsd?: number;
      prices?: PriceTable;
      now?: () => Date;
    },
  ) {}

  /** Undefined while under the cap (or without one). */
  reached(): DailySpent | undefined {
    const { capUsd } = this.opts;
    if (capUsd === undefined) return undefined;
    const now = (this.opts.now?.() ?? new Date()).getTime();
    const dayStart = now - (now % DAY_MS);
    let spentUsd = 0;
    for (const record of this.opts.records()) {
      const usage = trustedUsage(record);
      if (!usage || Date.parse(usage.at) < dayStart) continue;
      spentUsd += costOf(usage.models, this.opts.prices ?? DEFAULT_PRICES).usd;
    }
    if (spentUsd < capUsd) return undefined;
    return { spentUsd, capUsd, resetsAt: new Date(dayStart + DAY_MS).toISOString() };
  }
}

/** The one reply a command gets while the daily cap is reached. */
export function dailyBudgetText(spent: DailySpent): string {
  return [
    `⚠️ No thopter was started: the swarm's budget for today is spent ($${spent.spentUsd.toFixed(2)} of $${spent.capUsd.toFixed(2)}, \`MAX_DAILY_COST_USD\`).`,
    "",
    `It resets at ${spent.resetsAt.replace(/:\d\d\.\d+Z$/, " UTC").replace("T", " ")}: comment \`/thopter\` again after that, or ask whoever runs the hub to raise \`MAX_DAILY_COST_USD\`.`,
  ].join("\n");
}
