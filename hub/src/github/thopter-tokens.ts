import type { Logger } from "pino";
import { type GithubApp, type MintedToken, THOPTER_PERMISSIONS } from "./app.js";

/**
 * Each thopter's GitHub App tokens: minted for its one repository with the broker's least permissions (at
 * provisioning, and again at each renewal), all revoked when it stops. Kept in memory only, like every GitHub
 * credential the hub holds: tokens a previous hub run issued cannot be revoked by this one and simply expire
 * (within the hour).
 */
export class ThopterGithubTokens {
  private readonly issued = new Map<string, string[]>();

  constructor(
    private readonly app: GithubApp,
    private readonly log: Logger,
  ) {}

  async issue(thopterId: string, repo: string): Promise<MintedToken> {
    const minted = await this.app.token(repo, THOPTER_PERMISSIONS, true);
    this.issued.set(thopterId, [...(this.issued.get(thopterId) ?? []), minted.token]);
    return minted;
  }

  /** Revokes every token the thopter was given; one GitHub refuses to revoke is logged and left to expire. */
  async revoke(thopterId: string): Promise<void> {
    const tokens = this.issued.get(thopterId) ?? [];
    this.issued.delete(thopterId);
    await Promise.all(
      tokens.map((token) =>
        this.app
          .revoke(token)
          .catch((err: Error) => this.log.warn({ thopterId, err: err.message }, "could not revoke a GitHub App token")),
      ),
    );
  }
}
