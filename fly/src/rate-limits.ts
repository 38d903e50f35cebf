import { type Rate, TokenBucket } from "./token-bucket.js";

/** An API operation as `METHOD /schema/path`, e.g. `POST /apps/{app_name}/machines`. */
export type OperationKey = string;

/**
 * Fly's published limits: 1 request/s per action with bursts of 3; getting one machine is allowed 5/s. Fly counts an
 * action on a machine per machine, and an app-wide action (create, list) per app.
 */
export const FLY_RATE_LIMITS: { default: Rate } & Record<OperationKey, Rate> = {
  default: { perSecond: 1, burst: 3 },
  "GET /apps/{app_name}/machines/{machine_id}": { perSecond: 5, burst: 5 },
};

/** Past this many buckets, idle (full) ones are dropped: a long-running hub touches many machines once each. */
const MAX_BUCKETS = 1000;

/** One token bucket per operation and target (machine or volume id, if any), created on first use. */
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly limits: Record<OperationKey, Rate>;

  constructor(overrides: Partial<Record<OperationKey, Rate>> = {}) {
    this.limits = { ...FLY_RATE_LIMITS, ...overrides } as Record<OperationKey, Rate>;
  }

  /** Waits until `operation` may be called on `target`; resolves with the milliseconds waited. */
  take(operation: OperationKey, target = ""): Promise<number> {
    const key = `${operation} ${target}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.dropIdle();
      bucket = new TokenBucket(this.limits[operation] ?? this.limits.default!);
      this.buckets.set(key, bucket);
    }
    return bucket.take();
  }

  private dropIdle(): void {
    for (const [key, bucket] of this.buckets) if (bucket.isIdle()) this.buckets.delete(key);
  }
}
