import { setTimeout as sleep } from "node:timers/promises";
import type { CallCounter } from "./call-stats.js";
import { FlyApiError, flyErrorText } from "./errors.js";
import { backoffMs, DEFAULT_RATE_LIMIT_DEADLINE_MS, type RetryPolicy, retryAfterMs } from "./retry.js";

/**
 * How one logical operation may be repeated. Every operation this client offers is safe to repeat after a 5xx or a
 * lost response: reads, and stop/destroy/delete/upsert, by nature; creations because `recover` finds what a lost
 * attempt made before trying again.
 */
export interface CallPlan<T> {
  /** `METHOD /path` for error messages. */
  call: string;
  /**
   * For creations made idempotent by a caller-chosen name: finds what an attempt whose outcome is unknown (5xx, lost
   * response) or a name conflict (409) may already have made, instead of creating a second one.
   */
  recover?: () => Promise<T | undefined>;
  /** Statuses that mean the goal is already reached on a repeated attempt (404 on a retried delete). */
  doneOnRetry?: number;
}

export interface ApiResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * Runs one logical operation: 429 is repeated after `retry-after` (Fly did nothing) until the rate-limit deadline; a
 * 5xx or a lost response after backoff, first asking `recover` whether the lost attempt already did the work; other
 * errors are final.
 */
export async function runCall<T>(
  plan: CallPlan<T>,
  send: () => Promise<ApiResult<T>>,
  retry: RetryPolicy,
  counter: CallCounter,
  /** How long 429s are waited out in all: they do not count against `retry.attempts`. */
  rateLimitDeadlineMs = DEFAULT_RATE_LIMIT_DEADLINE_MS,
): Promise<T> {
  let lastError: FlyApiError | undefined;
  let outcomeUnknown = false;
  const { attempts } = retry;
  // No pause after the last attempt: nothing follows it but the final recovery or the error.
  const pause = (attempt: number, ms = backoffMs(attempt, retry)) => (attempt < attempts ? sleep(ms) : undefined);
  const deadline = Date.now() + rateLimitDeadlineMs;
  let limited = 0;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1 || limited > 0) counter.retried();
    if (outcomeUnknown && plan.recover) {
      const found = await plan.recover();
      if (found !== undefined) return found;
    }
    let result: ApiResult<T>;
    try {
      result = await send();
    } catch (cause) {
      lastError = new FlyApiError(plan.call, undefined, cause instanceof Error ? cause.message : String(cause), {
        cause,
      });
      outcomeUnknown = true;
      await pause(attempt);
      continue;
    }
    const { response } = result;
    if (response.ok) return result.data as T;
    if (attempt > 1 && response.status === plan.doneOnRetry) return undefined as T;
    lastError = new FlyApiError(plan.call, response.status, flyErrorText(result.error));
    if (response.status === 429) {
      limited++;
      const wait = retryAfterMs(response.headers.get("retry-after")) ?? backoffMs(Math.min(limited, 10), retry);
      if (Date.now() + wait > deadline) {
        throw new FlyApiError(
          plan.call,
          429,
          `Fly kept rate-limiting it for ${Math.round(rateLimitDeadlineMs / 1000)} s (${limited} answers 429; ` +
            "the deadline is FLY_RATE_LIMIT_DEADLINE_MS)",
        );
      }
      await sleep(wait);
      attempt--; // a 429 is not a failed attempt: Fly did nothing
    } else if (response.status >= 500) {
      outcomeUnknown = true;
      await pause(attempt);
    } else if (response.status === 409 && plan.recover) {
      const found = await plan.recover();
      if (found !== undefined) return found;
      throw lastError;
    } else {
      throw lastError;
    }
  }
  if (outcomeUnknown && plan.recover) {
    const found = await plan.recover();
    if (found !== undefined) return found;
  }
  throw lastError;
}
