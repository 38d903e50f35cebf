import { httpStatus, type RepoFullName } from "@thopter/protocol";
import { GitHubGaveUp, type RateBudget, rateBudget } from "../github/octokit.js";
import type { PartHealth } from "../http/routes/health.js";

/** Why a repository's last poll failed, as a word the page and scripts can match on. */
export type PollProblem = "timeout" | "bad-token" | "not-found" | "rate-limited" | "unreachable" | "error";

/** One watched repository on /healthz and the dashboard. */
export interface RepoHealth extends PartHealth {
  /** When its last poll cycle succeeded (absent: none has yet). */
  lastPollAt?: string;
  /** Why its last poll failed (absent: it did not). */
  problem?: PollProblem;
  /** Rate-limited: when GitHub will answer again (from `x-ratelimit-reset` or `retry-after`). */
  rateLimitedUntil?: string;
  /** A webhook delivery with a bad signature arrived (at this time) since the last good one. */
  webhookMismatchAt?: string;
  /** The issues token's REST budget, from the last response's rate-limit headers. */
  budget?: RateBudget;
}

interface Entry {
  lastPollAt?: string;
  poll?: { problem: PollProblem; detail: string; since: string; until?: string };
  webhookMismatchAt?: string;
  budget?: RateBudget;
}

/** `14:05 UTC`: a time of day as the failure line says it (the page shows the exact time on hover). */
export function clock(iso: string): string {
  return `${iso.slice(11, 16)} UTC`;
}

/** The poll failure in words: what GitHub (or the network) did, and what to do. */
export function describeFailure(
  repo: string,
  err: unknown,
  now: Date,
): { problem: PollProblem; detail: string; until?: string } {
  if (err instanceof GitHubGaveUp && err.why === "timeout")
    return { problem: "timeout", detail: `timed out: ${err.message}` };
  const status = httpStatus(err);
  const headers = (err as { response?: { headers?: Record<string, unknown> } }).response?.headers;
  if (status === 401) {
    return {
      problem: "bad-token",
      detail:
        "401 bad token: GitHub refused the issues token (expired or revoked?); replace it in GITHUB_INTEGRATION_JSON",
    };
  }
  if (status === 404) {
    return {
      problem: "not-found",
      detail: `404 no such repository or no access: the token cannot see ${repo}; check the name and the token's repository access`,
    };
  }
  const until = rateLimitedUntil(status, headers, now);
  if (until) {
    return {
      problem: "rate-limited",
      detail: `rate-limited until ${clock(until)}: GitHub refuses more requests for now`,
      until,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  if (status === 500 && !headers) return { problem: "unreachable", detail: `cannot reach GitHub: ${message}` };
  return { problem: "error", detail: status ? `GitHub answered ${status}: ${message}` : message };
}

/** A 403/429 that is a rate limit: until the window resets (primary) or `retry-after` passes (secondary). */
function rateLimitedUntil(status: number | undefined, headers: Record<string, unknown> | undefined, now: Date) {
  if (status !== 403 && status !== 429) return undefined;
  const retryAfter = Number(headers?.["retry-after"]);
  if (Number.isFinite(retryAfter) && headers?.["retry-after"] !== undefined) {
    return new Date(now.getTime() + retryAfter * 1000).toISOString();
  }
  const budget = rateBudget(headers);
  return budget?.remaining === 0 ? budget.resetAt : undefined;
}

/**
 * Per watched repository: its last good poll, why its last poll failed, webhook deliveries refused for a bad
 * signature since the last good one, and its token's rate-limit budget. The poll loop, the GitHub clients and the
 * webhook route write here; /healthz and the dashboard read.
 */
export class RepoHealthBook {
  private readonly entries = new Map<RepoFullName, Entry>();

  constructor(
    private readonly repos: readonly RepoFullName[],
    private readonly now: () => Date = () => new Date(),
  ) {
    for (const repo of repos) this.entries.set(repo, {});
  }

  private entry(repo: RepoFullName): Entry {
    let entry = this.entries.get(repo);
    if (!entry) {
      entry = {};
      this.entries.set(repo, entry);
    }
    return entry;
  }

  pollSucceeded(repo: RepoFullName): void {
    const entry = this.entry(repo);
    entry.lastPollAt = this.now().toISOString();
    entry.poll = undefined;
  }

  pollFailed(repo: RepoFullName, err: unknown): string {
    const entry = this.entry(repo);
    const now = this.now();
    const failure = describeFailure(repo, err, now);
    // `since` is when it started failing, whatever the reason now.
    entry.poll = { ...failure, since: entry.poll?.since ?? now.toISOString() };
    return failure.detail;
  }

  budget(repo: RepoFullName, budget: RateBudget): void {
    this.entry(repo).budget = budget;
  }

  /** A delivery refused for its signature, naming a configured repository, or none (then every one). */
  webhookRefused(repo: RepoFullName | undefined): void {
    const at = this.now().toISOString();
    for (const r of repo ? [repo] : this.repos) this.entry(r).webhookMismatchAt ??= at;
  }

  /** A delivery whose signature is right: the secret works for its repository (or all, when it names none). */
  webhookAccepted(repo: RepoFullName | undefined): void {
    for (const r of repo ? [repo] : this.repos) this.entry(r).webhookMismatchAt = undefined;
  }

  failing(): RepoFullName[] {
    return this.repos.filter((r) => this.entries.get(r)?.poll);
  }

  health(repo: RepoFullName): RepoHealth {
    const { lastPollAt, poll, webhookMismatchAt, budget } = this.entry(repo);
    const problems = [
      ...(poll ? [poll.detail] : []),
      ...(webhookMismatchAt
        ? [
            `webhook secret mismatch seen: a delivery with a bad signature arrived at ${clock(webhookMismatchAt)}; ` +
              "set GITHUB_WEBHOOK_SECRET to the webhook's secret",
          ]
        : []),
    ];
    return {
      state: problems.length > 0 ? "failing" : "ok",
      ...(problems.length > 0 ? { detail: problems.join("; "), since: poll?.since ?? webhookMismatchAt } : {}),
      ...(lastPollAt ? { lastPollAt } : {}),
      ...(poll ? { problem: poll.problem } : {}),
      ...(poll?.until ? { rateLimitedUntil: poll.until } : {}),
      ...(webhookMismatchAt ? { webhookMismatchAt } : {}),
      ...(budget ? { budget } : {}),
    };
  }
}
