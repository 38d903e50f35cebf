import type { RepoFullName } from "@thopter/protocol";
import type { Logger } from "pino";
import type { HubConfig } from "../config.js";
import type { HubMetrics } from "../metrics.js";
import { RepoHealthBook } from "../watcher/repo-health.js";
import { GithubApp } from "./app.js";
import { GitHubClients, issuesTokens } from "./clients.js";
import { fetchWithTimeout, stopping } from "./octokit.js";

export interface GitHubSide {
  /** The GitHub App, when GITHUB_APP_ID is set. */
  app: GithubApp | undefined;
  repos: RepoFullName[];
  /** The repositories the GitHub App serves (those without an issues token). */
  appRepos: RepoFullName[];
  clients: GitHubClients;
  /** Each repository's health: poll results, webhook signatures, rate-limit budget. */
  book: RepoHealthBook;
  /** Aborted by `stop` (or the caller's signal): requests in flight fail at once, none is retried. */
  signal: AbortSignal;
  stop(): void;
}

/**
 * The hub's GitHub clients (writes and polls) for the configured repositories, reporting into their health book, and
 * the GitHub App (its calls, token minting included, time out with the polls' timeout and end when the hub stops).
 */
export function connectGitHub(
  config: HubConfig,
  deps: { metrics: HubMetrics; log: Logger; retryUnitMs?: number; requestTimeoutMs?: number; signal?: AbortSignal },
): GitHubSide {
  const { integration } = config;
  const repos = Object.keys(integration.repositories) as RepoFullName[];
  const appRepos = repos.filter((r) => !integration.repositories[r]!.issuesToken);
  // Durable state (cursors, outbox, requests) makes an aborted request safe: the next start goes on from there.
  const abort = new AbortController();
  const stop = () => abort.abort(stopping());
  deps.signal?.addEventListener("abort", stop, { once: true });
  const app =
    config.githubApp &&
    new GithubApp(
      config.githubApp,
      config.GITHUB_API_URL,
      deps.log,
      fetchWithTimeout(config.GITHUB_POLL_TIMEOUT_MS, "fail", abort.signal),
    );
  const book = new RepoHealthBook(repos);
  const clients = new GitHubClients({
    app: app && { app, repos: appRepos },
    baseUrl: config.GITHUB_API_URL,
    issuesTokens: issuesTokens(integration),
    log: deps.log,
    retryUnitMs: deps.retryUnitMs,
    requestTimeoutMs: deps.requestTimeoutMs,
    pollTimeoutMs: config.GITHUB_POLL_TIMEOUT_MS,
    signal: abort.signal,
    onRateLimit: (repo, budget) => {
      deps.metrics.rateLimitRemaining.set({ repo }, budget.remaining);
      book.budget(repo, budget);
    },
  });
  return { app, repos, appRepos, clients, book, signal: abort.signal, stop };
}
