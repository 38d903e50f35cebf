/** Fly's limit as the server applies it: a request without a token is refused at once (429), never queued. */
export interface PeerRateLimit {
  perSecond: number;
  burst: number;
}

/** One allowance per key (operation and machine), refilled continuously up to the burst. */
export class PeerRateLimiter {
  private readonly allowances = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly limit: PeerRateLimit) {}

  /** Undefined when the request may go ahead; otherwise the seconds until it may. */
  refuse(key: string, now = performance.now()): number | undefined {
    const allowance = this.allowances.get(key) ?? { tokens: this.limit.burst, at: now };
    allowance.tokens = Math.min(
      this.limit.burst,
      allowance.tokens + ((now - allowance.at) / 1000) * this.limit.perSecond,
    );
    allowance.at = now;
    this.allowances.set(key, allowance);
    if (allowance.tokens >= 1) {
      allowance.tokens -= 1;
      return undefined;
    }
    return (1 - allowance.tokens) / this.limit.perSecond;
  }
}
