import type { Outbox } from "../outbox.js";
import type { UsageStore } from "./usage-store.js";

/**
 * Sends the proxy's usage totals through the durable outbox after responses, coalesced: at most one report per
 * `everyMs`, always with the latest totals (the hub keeps the latest). `flush` sends what is due at once.
 */
export class UsageReporter {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly outbox: Outbox,
    private readonly store: UsageStore,
    private readonly everyMs: number,
  ) {}

  counted(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.everyMs);
  }

  flush(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.outbox.enqueue({ kind: "usage", models: this.store.models });
  }

  /** `blocked` with what was spent, once over the proxy's whole life (restarts included). */
  blocked(summary: string): void {
    if (this.store.blockedReported) return;
    this.flush();
    // `reason` tells the hub to comment what was spent and stop the thopter after BUDGET_GRACE_MIN.
    this.outbox.enqueue({ kind: "status", state: "blocked", summary, reason: "budget" });
    this.store.markBlockedReported();
  }
}
