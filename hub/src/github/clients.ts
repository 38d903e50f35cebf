import type { RepoFullName } from "@thopter/protocol";
import type { Logger } from "pino";
import { type GithubApp, HUB_PERMISSIONS } from "./app.js";
import { getTokenLogin } from "./issues.js";
import { createGitHubClient, type GitHubClient } from "./octokit.js";

export interface GitHubClientsOptions {
  baseUrl: string;
  /** `owner/name` → that repository's issues token. */
  issuesTokens: Record<string, string>;
  /** The GitHub App and the repositories it serves (those without an issues token). */
  app?: { app: GithubApp; repos: string[] };
  log: Logger;
  onRateLimitRemaining?: (repo: RepoFullName, remaining: number) => void;
  retryUnitMs?: number;
  requestTimeoutMs?: number;
}

/** One Octokit per configured repository (its issues token), and the login each token acts as. */
export class GitHubClients {
  private readonly clients = new Map<string, GitHubClient>();
  private readonly logins = new Map<string, Promise<string>>();

  constructor(private readonly opts: GitHubClientsOptions) {
    const app = opts.app;
    const appTokens = Object.fromEntries(
      (app?.repos ?? []).map((repo) => [repo, async () => (await app!.app.token(repo, HUB_PERMISSIONS)).token]),
    );
    for (const [repo, token] of Object.entries({ ...opts.issuesTokens, ...appTokens })) {
      this.clients.set(
        repo.toLowerCase(),
        createGitHubClient({
          baseUrl: opts.baseUrl,
          token,
          id: repo,
          log: opts.log,
          retryUnitMs: opts.retryUnitMs,
          requestTimeoutMs: opts.requestTimeoutMs,
          onRateLimitRemaining: opts.onRateLimitRemaining && ((n) => opts.onRateLimitRemaining!(repo, n)),
        }),
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
    const client = this.clients.get(repo.toLowerCase());
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
