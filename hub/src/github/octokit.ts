import { createHash } from "node:crypto";
import { createCallbackAuth } from "@octokit/auth-callback";
import { Octokit } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { httpStatus } from "@thopter/protocol";
import type { Logger } from "pino";

const GitHub = Octokit.plugin(throttling, retry, paginateRest);
export type GitHubClient = InstanceType<typeof GitHub>;

/** How many times one request is retried after a 5xx, a secondary limit or an exhausted primary limit. */
export const MAX_RETRIES = 4;
/**
 * The longest `retry-after` (or primary-limit reset) waited out inside one request. Longer waits fail the request
 * instead, so a poll cycle (and SIGTERM, which waits for it) is never stuck for an hour; the next cycle tries again.
 */
export const MAX_WAIT_SECONDS = 120;
/** A GitHub write that has not answered by then is aborted (and retried like a 5xx): a hung socket never stalls it. */
const REQUEST_TIMEOUT_MS = 30_000;

/** GitHub's rate-limit headers of the last response: what is left of the token's hourly budget. */
export interface RateBudget {
  remaining: number;
  limit: number;
  /** When the window restarts (ISO), from `x-ratelimit-reset`. */
  resetAt?: string;
}

/**
 * A request given up on (its timeout passed, or the hub is stopping). Named `AbortError` on purpose: @octokit/request
 * passes an AbortError through untouched, so neither the retry nor the throttling plugin tries it again.
 */
export class GitHubGaveUp extends Error {
  override readonly name = "AbortError";
  constructor(
    message: string,
    readonly why: "timeout" | "stopping",
  ) {
    super(message);
  }
}

export interface GitHubClientOptions {
  baseUrl: string;
  /** A PAT, or a callback giving the current installation token (GitHub App). */
  token: string | (() => Promise<string>);
  log: Logger;
  /** A label for logs (the repository). */
  id: string;
  /** Called with every response's rate-limit headers (304s and errors included), for /metrics and /healthz. */
  onRateLimit?: (budget: RateBudget) => void;
  /** Milliseconds per backoff "second" for 5xx retries (1, 4, 9… s on GitHub); tests shorten it. */
  retryUnitMs?: number;
  requestTimeoutMs?: number;
  /**
   * `retry` (writes): a request past its timeout is retried like a 5xx. `fail` (polls): it fails at once with
   * `GitHubGaveUp`, so a hanging GitHub is reported within the timeout; the next cycle is the retry.
   */
  onTimeout?: "retry" | "fail";
  /** Aborted when the hub stops: every request in flight fails at once (`GitHubGaveUp`), none is retried. */
  signal?: AbortSignal;
}

/**
 * One Octokit per repository's issues token. The throttling plugin spaces mutations (≥ 1 s apart, comments 3 s)
 * and waits out `retry-after` on secondary limits (403/429); the retry plugin backs off on 5xx. A request that still
 * fails is thrown to the caller, whose state (cursor, outbox) has not moved, so the next cycle tries again.
 */
export function createGitHubClient(opts: GitHubClientOptions): GitHubClient {
  const log = opts.log.child({ github: opts.id });
  const client = new GitHub({
    baseUrl: opts.baseUrl.replace(/\/+$/, ""),
    ...(typeof opts.token === "string"
      ? { auth: opts.token }
      : { authStrategy: createCallbackAuth, auth: { callback: opts.token } }),
    userAgent: "thopter-swarm-hub",
    request: {
      fetch: fetchWithTimeout(opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, opts.onTimeout ?? "retry", opts.signal),
    },
    // Octokit's own logger prints request details at debug; route it through pino (which redacts) at the right levels.
    log: {
      debug: () => {},
      info: (msg: string) => log.info(msg),
      warn: (msg: string) => log.warn(msg),
      error: (msg: string) => log.error(msg),
    },
    throttle: {
      // The plugin's limiters are keyed by id: secondary limits are per account, so clients sharing a token share them.
      id: createHash("sha256")
        .update(`${opts.baseUrl}\n${typeof opts.token === "string" ? opts.token : `app ${opts.id}`}`)
        .digest("hex")
        .slice(0, 16),
      onRateLimit: waitOrGiveUp(log, "GitHub primary rate limit hit"),
      onSecondaryRateLimit: waitOrGiveUp(log, "GitHub secondary rate limit"),
    },
    // 429 belongs to the throttling plugin (it reads retry-after); the retry plugin handles 5xx.
    retry: {
      doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
      retries: MAX_RETRIES,
      retryAfterBaseValue: opts.retryUnitMs ?? 1000,
    },
  });
  if (opts.onRateLimit) {
    const report = opts.onRateLimit;
    const read = (headers: Record<string, unknown> | undefined) => {
      const budget = rateBudget(headers);
      if (budget) report(budget);
    };
    client.hook.after("request", (response) => read(response.headers));
    client.hook.error("request", (error) => {
      read((error as { response?: { headers?: Record<string, unknown> } }).response?.headers);
      throw error;
    });
  }
  return client;
}

/** The rate-limit headers of a response, when it has them. */
export function rateBudget(headers: Record<string, unknown> | undefined): RateBudget | undefined {
  const number = (name: string) => {
    const value = headers?.[name];
    return value === undefined || value === "" ? Number.NaN : Number(value);
  };
  const remaining = number("x-ratelimit-remaining");
  const limit = number("x-ratelimit-limit");
  if (!Number.isFinite(remaining) || !Number.isFinite(limit)) return undefined;
  const reset = number("x-ratelimit-reset");
  return { remaining, limit, ...(Number.isFinite(reset) ? { resetAt: new Date(reset * 1000).toISOString() } : {}) };
}

/** `fetch` with the client's timeout and the hub's stop signal added to whatever signal the caller gave. */
export function fetchWithTimeout(ms: number, onTimeout: "retry" | "fail", stop: AbortSignal | undefined): typeof fetch {
  return (input, init) => {
    const timeout = new AbortController();
    // A TimeoutError becomes a RequestError (retried like a 5xx); a GitHubGaveUp is not retried. The timer also
    // covers reading the body, so it is not cleared when the headers arrive (unref: it never holds the process).
    const message = `GitHub did not answer within ${seconds(ms)}`;
    setTimeout(
      () =>
        timeout.abort(
          onTimeout === "fail" ? new GitHubGaveUp(message, "timeout") : new DOMException(message, "TimeoutError"),
        ),
      ms,
    ).unref();
    const signals = [init?.signal, stop, timeout.signal].filter((s): s is AbortSignal => Boolean(s));
    return fetch(input, { ...init, signal: AbortSignal.any(signals) });
  };
}

/** The reason the hub aborts its stop signal with: requests in flight fail at once and are not retried. */
export function stopping(): GitHubGaveUp {
  return new GitHubGaveUp("the hub is stopping", "stopping");
}

/** `10 s`, `300 ms`: a timeout as the health page says it. */
function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** A throttling handler: wait `retryAfter` seconds and retry, unless that is too long or tried too often. */
function waitOrGiveUp(log: Logger, message: string) {
  return (retryAfter: number, options: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
    const retry = retryCount < MAX_RETRIES && retryAfter <= MAX_WAIT_SECONDS;
    log.warn({ retryAfter, method: options.method, url: options.url, retryCount, retry }, message);
    return retry;
  };
}

/** True for Octokit's "not modified" answer to a conditional request (it is thrown as a RequestError). */
export function isNotModified(err: unknown): boolean {
  return httpStatus(err) === 304;
}

/** GitHub says the issue or comment is not there any more (deleted, transferred): retrying will not help. */
export function isGone(err: unknown): boolean {
  const status = httpStatus(err);
  return status === 404 || status === 410;
}
