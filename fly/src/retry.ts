/** How often and how patiently a failed call is repeated. */
export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 10_000 };

/** How long one operation waits out sustained 429s before it fails (FLY_RATE_LIMIT_DEADLINE_MS): minutes, not tries. */
export const DEFAULT_RATE_LIMIT_DEADLINE_MS = 300_000;

/** Exponential backoff with jitter (50–100% of the step), so parallel callers do not retry in lockstep. */
export function backoffMs(failedAttempts: number, policy: RetryPolicy): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempts - 1));
  return Math.round(step * (0.5 + Math.random() / 2));
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds; `undefined` when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
