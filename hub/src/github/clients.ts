import type { RepoFullName } from "@thopter/protocol";
import type { Logger } from "pino";
import type { GithubIntegration } from "../github-integration.js";
import { type GithubApp, HUB_PERMISSIONS } from "./app.js";
import { getTokenLogin } from "./issues.js";
import { createGitHubClient, type GitHubClient, type RateBudget } from "./octokit.js";

export interface GitHubClientsOptions {
  baseUrl: string;
  /** `owner/name` → that repository's issues token. */
  issuesTokens: Record<string, string>;
  /** The GitHub App and the repositories it serves (those without an issues token). */
  app?: { app: GithubApp; repos: string[] };
  log: Logger;
  onRateLimit?: (repo: RepoFullName, budget: RateBudget) => void;
  retryUnitMs?: number;
  /** How long a write may take before it is aborted and retried (30 s by default). */
  requestTimeoutMs?: number;
  /** How long one poll request may take before the poll cycle fails as "timed out" (not retried). */
  pollTimeoutMs?: number;
  /** Aborted when the hub stops: every request in flight fails at once. */
  signal?: AbortSignal;
}

/** Each repository's issues token from GITHUB_INTEGRATION_JSON (repositories the App covers have none). */
export function issuesTokens(integration: GithubIntegration): Record<string, string> {
  return Object.fromEntries(
    Object.entries(integration.repositories).flatMap(([repo, t]) => (t.issuesToken ? [[repo, t.issuesToken]] : [])),
  );
}

/**
 * Two Octokits per configured repository (its issues token): one for writes (long timeout, retried) and one for polls
 * (short timeout, a timeout fails the cycle), and the login each token acts as.
 */
export class GitHubClients {
  private readonly clients = new Map<string, GitHubClient>();
  private readonly pollClients = new Map<string, GitHubClient>();
  private readonly logins = new Map<string, Promise<string>>();

  constructor(private readonly opts: GitHubClientsOptions) {
    const app = opts.app;
    const appTokens = Object.fromEntries(
      (app?.repos ?? []).map((repo) => [repo, async () => (await app!.app.token(repo, HUB_PERMISSIONS)).token]),
    );
    for (const [repo, token] of Object.entries({ ...opts.issuesTokens, ...appTokens })) {
      const shared = {
        baseUrl: opts.baseUrl,
        token,
        id: repo,
        log: opts.log,
        retryUnitMs: opts.retryUnitMs,
        signal: opts.signal,
        onRateLimit: opts.onRateLimit && ((budget: RateBudget) => opts.onRateLimit!(repo as RepoFullName, budget)),
      };
      this.clients.set(repo.toLowerCase(), createGitHubClient({ ...shared, requestTimeoutMs: opts.requestTimeoutMs }));
      this.pollClients.set(
        repo.toLowerCase(),
        createGitHubClient({ ...shared, requestTimeoutMs: opts.pollTimeoutMs, onTimeout: "fail" }),
      );
    }
  }

  private isApp(key: string): boolean {
    return this.opts.app?.repos.some((r) => r.toLowerCase() === key) ?? false;
  }

  /** Repository names match case-insensitively, as on GitHub. */
  has(repo: string): boolean {
    return this.clients.has(repo.toLowerCase());
  }

  get(repo: string): GitHubClient {
    return this.lookup(this.clients, repo);
  }

  /** The client the poller reads with: a request that outlasts the poll timeout fails the cycle at once. */
  poll(repo: string): GitHubClient {
    return this.lookup(this.pollClients, repo);
  }

  private lookup(clients: Map<string, GitHubClient>, repo: string): GitHubClient {
    const client = clients.get(repo.toLowerCase());
    if (!client) throw new Error(`no GitHub client for ${repo}: it is not in GITHUB_INTEGRATION_JSON`);
    return client;
  }

  /** The bot's login for this repository's token (GET /user, cached); undefined while GitHub cannot tell us. */
  async botLogin(repo: string): Promise<string | undefined> {
    const key = repo.toLowerCase();
    let login = this.logins.get(key);
    if (!login) {
      login = this.isApp(key) ? this.opts.app!.app.botLogin() : getTokenLogin(this.get(repo));
      this.logins.set(key, login);
    }
    try {
      return await login;
    } catch (err) {
      this.logins.delete(key);
      this.opts.log.warn({ repo, err }, "could not learn the bot's login (GET /user); will retry");
      return undefined;
    }
  }
}
