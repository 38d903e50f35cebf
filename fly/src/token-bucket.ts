import { setTimeout as sleep } from "node:timers/promises";

/** A rate: `perSecond` tokens refill continuously up to `burst`. */
export interface Rate {
  perSecond: number;
  burst: number;
}

/**
 * A token bucket. `take()` resolves when a token is available; callers are served in order, so a burst of
 * requests leaves at `burst` at once and then one every `1/perSecond` seconds.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt = performance.now();
  private queue: Promise<void> = Promise.resolve();
  private waiting = 0;

  constructor(private readonly rate: Rate) {
    if (!(rate.perSecond > 0) || !(rate.burst >= 1)) {
      throw new Error(`rate limit needs perSecond > 0 and burst >= 1, got ${JSON.stringify(rate)}`);
    }
    this.tokens = rate.burst;
  }

  /** Waits for a token; resolves with the milliseconds spent waiting (0 when one was ready). */
  take(): Promise<number> {
    this.waiting += 1;
    const turn = this.queue.then(() => this.waitForToken()).finally(() => (this.waiting -= 1));
    this.queue = turn.then(() => undefined);
    return turn;
  }

  /** Full and nobody waiting: forgetting it changes nothing. */
  isIdle(): boolean {
    this.refill();
    return this.waiting === 0 && this.tokens >= this.rate.burst;
  }

  private async waitForToken(): Promise<number> {
    this.refill();
    let waited = 0;
    if (this.tokens < 1) {
      waited = Math.ceil(((1 - this.tokens) / this.rate.perSecond) * 1000);
      await sleep(waited);
      this.refill();
    }
    this.tokens = Math.max(0, this.tokens - 1);
    return waited;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.rate.perSecond);
    this.refilledAt = now;
  }
}
