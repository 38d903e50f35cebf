import { z } from "zod";
import { IsoTime, Name } from "./names.js";

/**
 * A golden-claude profile, as `-g NAME` picks it. Either a golden-claude machine (`gc-NAME`) whose home is copied
 * into new thopters, or a stored long-lived credential: an OAuth token from `claude setup-token`
 * (`CLAUDE_CODE_OAUTH_TOKEN`, about one year) or an `ANTHROPIC_API_KEY`. This is what may be shown (dashboard,
 * `status`); the credential itself travels only in `StoredProfile`.
 */
export const ProfileInfo = z.strictObject({
  name: Name,
  kind: z.enum(["golden-claude", "oauth-token", "api-key"]),
  /** When the credential was created (stored profiles) or the machine was set up (golden claudes). */
  createdAt: IsoTime,
  /** When the credential stops working, if known. */
  expiresAt: IsoTime.optional(),
});
export type ProfileInfo = z.infer<typeof ProfileInfo>;

/** A stored-credential profile with its secret: kept in root-only files, never logged or displayed. */
export const StoredProfile = ProfileInfo.extend({
  kind: z.enum(["oauth-token", "api-key"]),
  secret: z.string().min(1),
});
export type StoredProfile = z.infer<typeof StoredProfile>;

/** The environment variable Claude Code reads each stored credential from. */
export const PROFILE_SECRET_ENV = {
  "oauth-token": "CLAUDE_CODE_OAUTH_TOKEN",
  "api-key": "ANTHROPIC_API_KEY",
} as const;

/** How long `claude setup-token` tokens last, when the user gives no date. */
export const OAUTH_TOKEN_LIFETIME_DAYS = 365;
/** Warnings start this many days before a credential lapses. */
const EXPIRY_WARNING_DAYS = 30;

export interface ExpiryWarning {
  name: string;
  expiresAt: string;
  /** Whole days left; 0 or less once it has lapsed. */
  daysLeft: number;
  message: string;
}

const DAY_MS = 86_400_000;

/**
 * Profiles whose credential lapses within `warnDays` of `now` (or already has), soonest first, each with a line a
 * person can act on. Pure: the CLI's `status` and the hub's dashboard share it.
 */
export function expiryWarnings(
  profiles: readonly ProfileInfo[],
  now: Date,
  warnDays = EXPIRY_WARNING_DAYS,
): ExpiryWarning[] {
  const warnings: ExpiryWarning[] = [];
  for (const profile of profiles) {
    if (!profile.expiresAt) continue;
    const daysLeft = Math.floor((Date.parse(profile.expiresAt) - now.getTime()) / DAY_MS);
    if (daysLeft > warnDays) continue;
    const renew =
      profile.kind === "oauth-token"
        ? `run \`claude setup-token\` and \`pnpm fly profile add ${profile.name} --oauth-token-file FILE\``
        : profile.kind === "api-key"
          ? `create a new key and run \`pnpm fly profile add ${profile.name} --api-key-file FILE\``
          : `log in again on gc-${profile.name}`;
    const when =
      daysLeft < 0
        ? `expired on ${profile.expiresAt.slice(0, 10)}`
        : daysLeft === 0
          ? "expires today"
          : `expires in ${daysLeft} day${daysLeft === 1 ? "" : "s"} (${profile.expiresAt.slice(0, 10)})`;
    warnings.push({
      name: profile.name,
      expiresAt: profile.expiresAt,
      daysLeft,
      message: `profile ${profile.name}: credential ${when}; ${renew}`,
    });
  }
  return warnings.sort((a, b) => a.daysLeft - b.daysLeft);
}
