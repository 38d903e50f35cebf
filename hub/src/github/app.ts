import { createAppAuth, type StrategyOptions } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";
import { RequestError } from "@octokit/request-error";
import type { Logger } from "pino";
import type { GithubAppConfig } from "../github-app-config.js";

/**
 * The hub as a GitHub App: `@octokit/auth-app` signs the JWTs and mints installation tokens (its cache keeps them
 * until shortly before they expire). Every token names one repository and the least permissions its holder needs;
 * the App's key never leaves this module.
 */

export type Permissions = Record<string, "read" | "write">;

/** The hub's own calls: polling, reactions, comments. */
// Checks: read lets a follow-up's completion comment state the PR's checks (the App has it for the broker anyway).
export const HUB_PERMISSIONS: Permissions = {
  issues: "write",
  pull_requests: "write",
  checks: "read",
  metadata: "read",
};
/** A thopter's push broker: push, open pull requests, comment, read checks. */
export const THOPTER_PERMISSIONS: Permissions = {
  contents: "write",
  pull_requests: "write",
  issues: "write",
  checks: "read",
  metadata: "read",
};

/** A cached token is used only while it has at least this long left, so no call carries one about to expire. */
const EXPIRY_MARGIN_MS = 5 * 60 * 1000;

/** The App is not installed on a repository it is configured for. */
export class NotInstalledError extends Error {
  constructor(readonly repo: string) {
    super(
      `the GitHub App is not installed on ${repo}: install it there (the App's settings → Install App) or give ` +
        `${repo} issuesToken and coderToken in GITHUB_INTEGRATION_JSON`,
    );
  }
}

export interface MintedToken {
  token: string;
  expiresAt: string;
}

/** auth-app's cache, but honouring each token's own `expires_at` (its default assumes an hour). */
function expiryAwareCache(now: () => number) {
  const entries = new Map<string, string>();
  return {
    // The cached value is auth-app's `token|createdAt|expiresAt|…` string.
    get: (key: string) => {
      const value = entries.get(key);
      if (value && Date.parse(value.split("|")[2] ?? "") - EXPIRY_MARGIN_MS > now()) return value;
      entries.delete(key);
      return ""; // auth-app reads an empty value as "not cached"
    },
    set: (key: string, value: string) => void entries.set(key, value),
  };
}

export class GithubApp {
  private readonly auth: ReturnType<typeof createAppAuth>;
  private readonly request: Octokit["request"];
  private slug: Promise<string> | undefined;
  private readonly installations = new Map<string, Promise<number>>();
  private readonly notInstalled = new Set<string>();
  private readonly baseUrl: string;
  /** Set when GitHub's Date differed from this host's clock enough to refuse a JWT (seconds, GitHub minus ours). */
  clockSkewSeconds: number | undefined;

  /** `fetch` for every call (the hub's: a timeout, aborted when the hub stops). */
  private readonly fetch: typeof fetch | undefined;

  constructor(config: GithubAppConfig, baseUrl: string, log: Logger, fetchImpl?: typeof fetch) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.fetch = fetchImpl;
    const appLog = log.child({ component: "github-app" });
    const warn = (message: string) => {
      const skew = /time are different by (-?\d+) seconds/.exec(message);
      if (skew) {
        this.clockSkewSeconds = Number(skew[1]);
        appLog.warn(
          { skewSeconds: this.clockSkewSeconds },
          `the hub's clock is off by ${skew[1]} s from GitHub's, which refused its App JWT; set the host's time (NTP)`,
        );
      } else appLog.warn(message);
    };
    const github = new Octokit({
      baseUrl: this.baseUrl,
      authStrategy: createAppAuth,
      auth: {
        appId: config.appId,
        privateKey: config.privateKey,
        cache: expiryAwareCache(Date.now),
        log: { warn },
      } satisfies StrategyOptions,
      userAgent: "thopter-swarm-hub",
      request: { fetch: fetchImpl },
      log: { debug: () => {}, info: () => {}, warn, error: (m: string) => appLog.error(m) },
    });
    this.auth = github.auth as ReturnType<typeof createAppAuth>;
    this.request = github.request;
  }

  /** The login commits and comments come from: `<app-slug>[bot]` (GET /app, cached). */
  botLogin(): Promise<string> {
    this.slug ??= this.request("GET /app").then(
      (res) => res.data?.slug ?? "",
      (err: unknown) => {
        this.slug = undefined;
        throw err;
      },
    );
    return this.slug.then((slug) => `${slug}[bot]`);
  }

  /** The installation covering `repo` (GET /repos/{o}/{r}/installation, cached); NotInstalledError when none. */
  installationId(repo: string): Promise<number> {
    const key = repo.toLowerCase();
    let found = this.installations.get(key);
    if (!found) {
      const [owner = "", name = ""] = repo.split("/");
      found = this.request("GET /repos/{owner}/{repo}/installation", { owner, repo: name }).then(
        (res) => {
          this.notInstalled.delete(repo);
          return res.data.id;
        },
        (err: unknown) => {
          this.installations.delete(key);
          if (!(err instanceof RequestError && err.status === 404)) throw err;
          this.notInstalled.add(repo);
          throw new NotInstalledError(repo);
        },
      );
      this.installations.set(key, found);
    }
    return found;
  }

  /**
   * The bot as a git identity: `<slug>[bot]` with GitHub's noreply address for its user ID (GET /users/{login},
   * asked with the repository's hub token), so commits are attributed to the App.
   */
  async botIdentity(repo: string): Promise<{ name: string; email: string }> {
    const login = await this.botLogin();
    const { token } = await this.token(repo, HUB_PERMISSIONS);
    const { data } = await new Octokit({ baseUrl: this.baseUrl, auth: token, request: { fetch: this.fetch } }).request(
      "GET /users/{username}",
      {
        username: login,
      },
    );
    return { name: login, email: `${data.id}+${login}@users.noreply.github.com` };
  }

  /** What the dashboard should show: repositories the App is not installed on, and a clock GitHub disagrees with. */
  warnings(): string[] {
    const lines = [...this.notInstalled].map((repo) => new NotInstalledError(repo).message.replace(/^t/, "T"));
    if (this.clockSkewSeconds !== undefined) {
      lines.push(
        `The hub's clock is off by ${this.clockSkewSeconds} s from GitHub's (its App JWTs were refused): set the host's time (NTP).`,
      );
    }
    return lines;
  }

  /**
   * A token for `repo` only, with `permissions`. Cached by auth-app until shortly before it expires, unless `fresh`:
   * each thopter gets its own, so revoking it touches no other holder.
   */
  async token(repo: string, permissions: Permissions, fresh = false): Promise<MintedToken> {
    const installationId = await this.installationId(repo);
    const repositoryNames = [repo.split("/")[1] ?? ""];
    const auth = await this.auth({
      type: "installation",
      installationId,
      repositoryNames,
      permissions,
      refresh: fresh,
    });
    return { token: auth.token, expiresAt: auth.expiresAt };
  }

  /** Revokes an installation token (DELETE /installation/token); an already dead one (401) counts as revoked. */
  async revoke(token: string): Promise<void> {
    try {
      await new Octokit({ baseUrl: this.baseUrl, auth: token, request: { fetch: this.fetch } }).request(
        "DELETE /installation/token",
      );
    } catch (err) {
      if (!(err instanceof RequestError && err.status === 401)) throw err;
    }
  }
}
