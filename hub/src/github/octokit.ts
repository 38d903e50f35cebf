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
/** A GitHub call that has not answered by then is aborted (and retried like a 5xx): a hung socket never stalls a cycle. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface GitHubClientOptions {
  baseUrl: string;
  /** A PAT, or a callback giving the current installation token (GitHub App). */
  token: string | (() => Promise<string>);
  log: Logger;
  /** A label for logs (the repository). */
  id: string;
  /** Called with every response's `x-ratelimit-remaining` (304s included), for /metrics. */
  onRateLimitRemaining?: (remaining: number) => void;
  /** Milliseconds per backoff "second" for 5xx retries (1, 4, 9… s on GitHub); tests shorten it. */
  retryUnitMs?: number;
  requestTimeoutMs?: number;
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
    request: { fetch: fetchWithTimeout(opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS) },
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
  if (opts.onRateLimitRemaining) {
    const report = opts.onRateLimitRemaining;
    const read = (headers: Record<string, unknown> | undefined) => {
      const remaining = Number(headers?.["x-ratelimit-remaining"]);
      if (Number.isFinite(remaining) && headers?.["x-ratelimit-remaining"] !== undefined) report(remaining);
    };
    client.hook.after("request", (response) => read(response.headers));
    client.hook.error("request", (error) => {
      read((error as { response?: { headers?: Record<string, unknown> } }).response?.headers);
      throw error;
    });
  }
  return client;
}

function fetchWithTimeout(ms: number): typeof fetch {
  return (input, init) => {
    const timeout = AbortSignal.timeout(ms);
    return fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
  };
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
