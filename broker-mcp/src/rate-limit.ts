import { Refusal } from "./refusal.js";

/** At most `max` events in any `windowMs`: the refusal knows exactly when the oldest one expires. */
export class SlidingWindow {
  private readonly events: number[] = [];

  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
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

/**
 * Spends one unit of the thopter's issue-comment budget, or refuses with when to try again. `comment_on_issue` and
 * every `report_status` that the hub announces on the issue (done, blocked, needs_input) share it, so neither is a
 * side door to flooding the issue or the hub's token (5 per 10 minutes by default: `limits.commentsPerWindow`,
 * `limits.commentWindowMs`).
 */
export function spendCommentBudget(budget: SlidingWindow, what: string, instead: string): void {
  const retryAt = budget.take();
  if (!retryAt) return;
  const seconds = Math.ceil((retryAt.getTime() - Date.now()) / 1000);
  throw new Refusal(
    `Comment limit reached: ${what} counts against ${budget.max} issue comments per ${Math.round(budget.windowMs / 60_000)} minutes, ` +
      `shared by comment_on_issue and report_status done/blocked/needs_input. Try again after ${retryAt.toISOString()} ` +
      `(in ${seconds} s), or ${instead}.`,
  );
}
