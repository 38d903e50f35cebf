import { expiryWarnings, PROFILE_SECRET_ENV, type StoredProfile } from "@thopter/protocol";
import type { Logger } from "pino";

/** The stored-credential profiles `-g NAME` can pick, by name. */
export class Profiles {
  private readonly byName: Map<string, StoredProfile>;

  constructor(profiles: readonly StoredProfile[]) {
    this.byName = new Map(profiles.map((p) => [p.name, p]));
  }

  /** What `-g` accepts: the configured names (GOLDEN_CLAUDES) and every stored profile's. */
  acceptedNames(configured: readonly string[]): string[] {
    return [...new Set([...configured, ...this.byName.keys()])];
  }

  /** Every credential, for the log scrubber. */
  get secrets(): string[] {
    return [...this.byName.values()].map((p) => p.secret);
  }

  /** The variable Claude Code reads the profile's credential from, with the credential; `{}` for other names. */
  credentialEnv(name: string): Record<string, string> {
    const profile = this.byName.get(name);
    return profile ? { [PROFILE_SECRET_ENV[profile.kind]]: profile.secret } : {};
  }

  /** Logs each credential that lapses soon (or has), so whoever watches the hub renews it in time. */
  warnExpiring(log: Logger, now = new Date()): void {
    for (const warning of expiryWarnings([...this.byName.values()], now)) {
      log.warn({ profile: warning.name, expiresAt: warning.expiresAt, daysLeft: warning.daysLeft }, warning.message);
    }
  }
}
