import { join } from "node:path";
import { expiryWarnings, PROFILE_SECRET_ENV, type StoredProfile } from "@thopter/protocol";
import type { Logger } from "pino";
import { type HomeFile, listProfileHomes, readProfileHome } from "./homes.js";

/** The golden-claude profiles `-g NAME` can pick beyond GOLDEN_CLAUDES: stored credentials and home folders. */
export class Profiles {
  private readonly byName: Map<string, StoredProfile>;
  private readonly homes: string[];

  /** `homesDir`: PROFILE_HOMES_DIR, whose subfolders are profile homes (listed now, read at each provisioning). */
  constructor(
    profiles: readonly StoredProfile[],
    private readonly homesDir?: string,
  ) {
    this.byName = new Map(profiles.map((p) => [p.name, p]));
    this.homes = listProfileHomes(homesDir);
  }

  /** What `-g` accepts: the configured names (GOLDEN_CLAUDES), every stored profile's and every home folder's. */
  acceptedNames(configured: readonly string[]): string[] {
    return [...new Set([...configured, ...this.byName.keys(), ...this.homes])];
  }

  /** The files of the profile's home folder, or undefined when the profile has none. */
  async home(name: string): Promise<HomeFile[] | undefined> {
    return this.homesDir && this.homes.includes(name) ? readProfileHome(join(this.homesDir, name)) : undefined;
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
