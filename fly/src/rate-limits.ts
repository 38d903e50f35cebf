import { type Rate, TokenBucket } from "./token-bucket.js";

/** An API operation as `METHOD /schema/path`, e.g. `POST /apps/{app_name}/machines`. */
export type OperationKey = string;

/** Fly's published limits: 1 request/s per action with bursts of 3; getting one machine is allowed 5/s. */
export const FLY_RATE_LIMITS: { default: Rate } & Record<OperationKey, Rate> = {
  default: { perSecond: 1, burst: 3 },
  "GET /apps/{app_name}/machines/{machine_id}": { perSecond: 5, burst: 5 },
};

/** One token bucket per operation, created on first use, so each action is limited on its own. */
export class RateLimiter {
  private readonly buckets = new Map<OperationKey, TokenBucket>();
  private readonly limits: Record<OperationKey, Rate>;

  constructor(overrides: Partial<Record<OperationKey, Rate>> = {}) {
    this.limits = { ...FLY_RATE_LIMITS, ...overrides } as Record<OperationKey, Rate>;
  }

  /** Waits until `operation` may be called; resolves with the milliseconds waited. */
  take(operation: OperationKey): Promise<number> {
    let bucket = this.buckets.get(operation);
    if (!bucket) {
      bucket = new TokenBucket(this.limits[operation] ?? this.limits.default!);
      this.buckets.set(operation, bucket);
    }
    return bucket.take();
  }
}
