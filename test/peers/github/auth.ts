import type { User } from "./model.js";

/**
 * Tokens as fine-grained personal access tokens: each belongs to a user, is limited to some repositories (or all,
 * for a seeded human), and carries per-area permissions. The peer refuses what the real token would refuse.
 */

export type Area = "metadata" | "issues" | "pulls" | "contents" | "checks" | "statuses";
export type Level = "none" | "read" | "write";

export interface Grant {
  user: User;
  /** Repositories ("owner/name") this token can see; `all` for a human's classic token. */
  repos: Set<string> | "all";
  permissions: Record<Area, Level>;
  /** Installation tokens only: refused (401) from then on. */
  expiresAt?: Date;
  installationId?: number;
}

/**
 * The hub's issues token: read and write issues, comments and reactions, and pull requests (it watches line comments
 * and reacts on them, which GitHub counts as writing to pull requests); no contents, no CI results.
 */
export const ISSUES_PERMISSIONS: Record<Area, Level> = {
  metadata: "read",
  issues: "write",
  pulls: "write",
  contents: "none",
  checks: "none",
  statuses: "none",
};
/** The issues token, or one also given `Checks: read` and `Commit statuses: read` (`RepoSeed.issuesTokenReadsChecks`). */
export function issuesPermissionsOf(readsChecks = false): Record<Area, Level> {
  return readsChecks ? { ...ISSUES_PERMISSIONS, checks: "read", statuses: "read" } : ISSUES_PERMISSIONS;
}

/** The broker's coder token and a seeded human's token: contents and pull requests too, and read CI results. */
export const WRITE_PERMISSIONS: Record<Area, Level> = {
  metadata: "read",
  issues: "write",
  pulls: "write",
  contents: "write",
  checks: "read",
  statuses: "read",
};

/** No permission at all (an App's bot before it has an installation token). */
export const NO_PERMISSIONS: Record<Area, Level> = {
  metadata: "none",
  issues: "none",
  pulls: "none",
  contents: "none",
  checks: "none",
  statuses: "none",
};

const RANK: Record<Level, number> = { none: 0, read: 1, write: 2 };

export class Tokens {
  private readonly grants = new Map<string, Grant>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Throws unless `add(token, user, …, permissions)` would succeed, so callers can check before changing state. */
  check(token: string, user: User, permissions: Record<Area, Level>): void {
    if (!/^[\x21-\x7e]{8,}$/.test(token)) {
      throw new Error("GitHub peer: a token must be at least 8 printable ASCII characters without spaces");
    }
    const existing = this.grants.get(token);
    if (existing && (existing.user !== user || existing.permissions !== permissions)) {
      throw new Error(
        `GitHub peer: this token is already registered for ${existing.user.login}; give each user and role its own token`,
      );
    }
  }

  /** Registers a token; registering the same token again for another repository widens it to that one too. */
  add(token: string, user: User, repo: string | "all", permissions: Record<Area, Level>): void {
    this.check(token, user, permissions);
    const existing = this.grants.get(token);
    if (!existing) {
      this.grants.set(token, { user, repos: repo === "all" ? "all" : new Set([repo]), permissions });
    } else if (existing.repos !== "all") {
      if (repo === "all") existing.repos = "all";
      else existing.repos.add(repo);
    }
  }

  /** An App's installation token (minted by the peer, so always new). */
  addInstallationToken(token: string, grant: Grant & { expiresAt: Date; installationId: number }): void {
    this.grants.set(token, grant);
  }

  /** The token's grant; undefined when unknown, revoked or expired (GitHub answers 401 Bad credentials). */
  get(token: string): Grant | undefined {
    const grant = this.grants.get(token);
    return grant?.expiresAt && grant.expiresAt <= this.now() ? undefined : grant;
  }

  revoke(token: string): void {
    this.grants.delete(token);
  }

  /** The token of an `Authorization: token X` / `Bearer X` header; undefined when absent or another scheme. */
  static fromApiHeader(header: string | undefined): string | undefined {
    const match = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(header ?? "");
    return match?.[1];
  }

  /** The password of an `Authorization: Basic` header (git sends `x-access-token:TOKEN`). */
  static fromBasicHeader(header: string | undefined): string | undefined {
    const match = /^basic\s+(\S+)\s*$/i.exec(header ?? "");
    if (!match?.[1]) return undefined;
    const decoded = Buffer.from(match[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
}

export function canSee(grant: Grant, repo: string): boolean {
  return grant.repos === "all" || grant.repos.has(repo);
}

export function allows(grant: Grant, area: Area, level: Exclude<Level, "none">): boolean {
  return RANK[grant.permissions[area]] >= RANK[level];
}
