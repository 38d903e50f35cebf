/**
 * What the peer counts: REST requests per operation and per token, which of them cost primary rate limit (not
 * 304s, not GET /rate_limit), and each token's hourly window behind the `x-ratelimit-*` headers.
 */

export interface TokenStats {
  requests: number;
  rateLimited: number;
  notModified: number;
}

/** REST traffic only (git traffic is in the peer's `requestLog`). */
export interface PeerStats extends TokenStats {
  /** Requests per operation, keyed `METHOD /path/{template}`. */
  byRoute: Record<string, number>;
  /** Keyed by token. */
  byToken: Record<string, TokenStats>;
}

export interface RateLimitState {
  limit: number;
  remaining: number;
  used: number;
  /** Epoch seconds when the window restarts. */
  reset: number;
}

/** `counted` costs rate limit, `free` does not, `304` is a free Not Modified. */
export type Cost = "counted" | "free" | "304";

function emptyStats(): PeerStats {
  return { requests: 0, rateLimited: 0, notModified: 0, byRoute: {}, byToken: {} };
}

export class Accounting {
  private counters = emptyStats();
  private readonly windows = new Map<string, { used: number; reset: number }>();

  constructor(
    private readonly limit: number,
    private readonly now: () => Date,
  ) {}

  stats(): PeerStats {
    return structuredClone(this.counters);
  }

  resetStats(): void {
    this.counters = emptyStats();
  }

  count(route: string, token: string | undefined, cost: Cost): void {
    const stats = this.counters;
    stats.requests += 1;
    stats.byRoute[route] = (stats.byRoute[route] ?? 0) + 1;
    if (cost === "304") stats.notModified += 1;
    if (cost === "counted") stats.rateLimited += 1;
    if (!token) return;
    const perToken = stats.byToken[token] ?? { requests: 0, rateLimited: 0, notModified: 0 };
    stats.byToken[token] = perToken;
    perToken.requests += 1;
    if (cost === "304") perToken.notModified += 1;
    if (cost === "counted") {
      perToken.rateLimited += 1;
      this.window(token).used += 1;
    }
  }

  private window(token: string) {
    const now = this.now().getTime() / 1000;
    let window = this.windows.get(token);
    if (!window || window.reset <= now) {
      window = { used: 0, reset: Math.floor(now) + 3600 };
      this.windows.set(token, window);
    }
    return window;
  }

  rateLimit(token: string): RateLimitState {
    const window = this.window(token);
    return {
      limit: this.limit,
      remaining: Math.max(0, this.limit - window.used),
      used: window.used,
      reset: window.reset,
    };
  }

  headers(token: string): Record<string, string> {
    const state = this.rateLimit(token);
    return {
      "x-ratelimit-limit": String(state.limit),
      "x-ratelimit-remaining": String(state.remaining),
      "x-ratelimit-used": String(state.used),
      "x-ratelimit-reset": String(state.reset),
      "x-ratelimit-resource": "core",
    };
  }
}
