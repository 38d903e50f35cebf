import { Refusal } from "./refusal.js";

/** At most `max` events in any `windowMs`: the refusal knows exactly when the oldest one expires. */
export class SlidingWindow {
  private readonly events: number[] = [];

  constructor(
    readonly max: number,
    readonly windowMs: number,
    readonly now: () => number = Date.now,
  ) {}

  /** Records an event and returns null, or returns the time at which one will be allowed again. */
  take(): Date | null {
    const t = this.now();
    while (this.events.length && this.events[0]! <= t - this.windowMs) this.events.shift();
    if (this.events.length >= this.max) return new Date(this.events[0]! + this.windowMs);
    this.events.push(t);
    return null;
  }
}

export interface Rate {
  max: number;
  windowMs: number;
}

/**
 * The per-thopter budgets of the tools that reach GitHub, and what a refusal calls each. The numbers live in the
 * config (`limits.rates`, defaults in config.ts); every call is counted before GitHub is asked, so a refused call
 * costs the shared token nothing.
 */
const BUDGETS = {
  comments: {
    title: "Comment",
    unit: "issue comments",
    shared: ", shared by comment_on_issue, reply_to_review_comment and report_status done/blocked/needs_input",
  },
  pushes: { title: "Push", unit: "pushes", shared: "" },
  pullRequests: { title: "Pull request", unit: "open_pull_request calls", shared: "" },
  issueReads: { title: "Issue read", unit: "get_issue calls", shared: "" },
  originFetches: { title: "Origin fetch", unit: "update_from_origin calls", shared: "" },
  pullReads: { title: "Pull request read", unit: "get_pull_request and get_checks calls", shared: "" },
} as const;

export type BudgetName = keyof typeof BUDGETS;
export type Rates = Record<BudgetName, Rate>;

/** "10 minutes" or "15 seconds": windows are whole minutes in production, seconds in tests. */
function span(ms: number): string {
  if (ms % 60_000 === 0) return ms === 60_000 ? "minute" : `${ms / 60_000} minutes`;
  return `${Math.ceil(ms / 1000)} seconds`;
}

/** One sliding window per budget, for one broker (one thopter). */
export class Budgets {
  private readonly windows: Record<BudgetName, SlidingWindow>;

  constructor(rates: Rates, now: () => number = Date.now) {
    const names = Object.keys(BUDGETS) as BudgetName[];
    this.windows = Object.fromEntries(
      names.map((name) => [name, new SlidingWindow(rates[name].max, rates[name].windowMs, now)]),
    ) as Record<BudgetName, SlidingWindow>;
  }

  /**
   * Spends one unit of `name`, or refuses with when to try again and `instead`: what the model can do meanwhile.
   * `what` names the call in the refusal ("a push", "report_status done").
   */
  spend(name: BudgetName, what: string, instead: string): void {
    const window = this.windows[name];
    const retryAt = window.take();
    if (!retryAt) return;
    const { title, unit, shared } = BUDGETS[name];
    const seconds = Math.ceil((retryAt.getTime() - window.now()) / 1000);
    throw new Refusal(
      `${title} limit reached: ${what} counts against ${window.max} ${unit} per ${span(window.windowMs)}${shared}. ` +
        `Try again after ${retryAt.toISOString()} (in ${seconds} s), or ${instead}.`,
    );
  }
}
