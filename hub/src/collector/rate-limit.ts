/**
 * Status reports one thopter may post to the collector: a burst of 60, refilled at 20 per second. An observer
 * reports a few times per tool call and a heartbeat every 30 s, far below this; a loop posting with the status token
 * (the agent can read it) gets 429 and cannot crowd the registry, the store or other thopters' reports.
 */
export const STATUS_RATE = { burst: 60, perSecond: 20 };

export type Rate = typeof STATUS_RATE;

/**
 * GitHub App token renewals per thopter: a burst of 5, then one a minute. A broker renews about every 50 minutes
 * (and once more after a 401); a loop with its token cannot make the hub mint tokens without bound.
 */
export const GITHUB_TOKEN_RATE: Rate = { burst: 5, perSecond: 1 / 60 };

/**
 * Log chunks per thopter (`POST /v1/logs`): a burst of 40, then 10 a second (2.5 MiB/s of 256 KiB chunks). Boot sends
 * a few chunks a second while a session is busy; a flood reaches the archive's cap, not the hub's disk or CPU.
 */
export const LOGS_RATE: Rate = { burst: 40, perSecond: 10 };

interface Bucket {
  tokens: number;
  at: number;
  /** Reports refused since the last one taken. */
  refused: number;
}

/**
 * A token bucket per thopter. One bucket per thopter id the hub minted a token for, so the map grows with the
 * thopters and not with what a caller sends.
 */
export class PerThopterRate {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rate: Rate = STATUS_RATE,
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  /** Takes one report's allowance: 0 if allowed, else the whole seconds to wait (a Retry-After). */
  take(thopterId: string): { retryAfter: number; refused: number } {
    const t = this.now();
    const bucket = this.buckets.get(thopterId) ?? { tokens: this.rate.burst, at: t, refused: 0 };
    this.buckets.set(thopterId, bucket);
    bucket.tokens = Math.min(this.rate.burst, bucket.tokens + ((t - bucket.at) / 1000) * this.rate.perSecond);
    bucket.at = t;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      const refused = bucket.refused;
      bucket.refused = 0;
      return { retryAfter: 0, refused };
    }
    bucket.refused++;
    return { retryAfter: Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate.perSecond)), refused: bucket.refused };
  }

  forget(thopterId: string): void {
    this.buckets.delete(thopterId);
  }
}
