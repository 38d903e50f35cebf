import { readFileSync } from "node:fs";
import { OAUTH_TOKEN_LIFETIME_DAYS, StoredProfile } from "@thopter/protocol";
import { z } from "zod";
import type { Ops } from "./context.js";
import { readIfExists, resolvePath, statePath, writeSecretFile } from "./local-files.js";
import { profileName, SettingError } from "./settings.js";

const ProfileFile = z.array(StoredProfile);

/** The local store of credential profiles: `<THOPTER_STATE_DIR>/profiles.json`, owner-only. */
export function profilesPath(ops: Ops): string {
  return statePath(ops.settings, "profiles.json");
}

export function readProfiles(ops: Ops): StoredProfile[] {
  const path = profilesPath(ops);
  const text = readIfExists(path);
  if (text === undefined) return [];
  const parsed = ProfileFile.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new SettingError(
      "profiles",
      `${path}: is not a list of profiles (${parsed.error.issues[0]?.message}); fix or remove it`,
    );
  }
  return parsed.data;
}

function writeProfiles(ops: Ops, profiles: StoredProfile[]): void {
  writeSecretFile(profilesPath(ops), `${JSON.stringify(profiles, null, 2)}\n`);
}

const DAY_MS = 86_400_000;

/** `--expires YYYY-MM-DD` as an ISO time (end of that day, UTC). */
function expiryDate(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new SettingError("--expires", `--expires: ${JSON.stringify(value)} is not a date; give it as YYYY-MM-DD`);
  }
  return new Date(`${value}T23:59:59.000Z`).toISOString();
}

/** The one credential of a file from `claude setup-token` or the console: trimmed, one line, no spaces. */
function readCredential(ops: Ops, flag: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(resolvePath(ops.settings, file), "utf8").trim();
  } catch (err) {
    throw new SettingError(flag, `${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
  }
  if (text === "" || /\s/.test(text)) {
    throw new SettingError(flag, `${flag}: ${file} must hold the credential alone, on one line`);
  }
  return text;
}

/** `profile add NAME --oauth-token-file F | --api-key-file F [--expires YYYY-MM-DD]`. */
export function addProfile(ops: Ops, nameArg: string | undefined): number {
  const name = profileName(nameArg);
  const { oauthTokenFile, apiKeyFile, expires } = ops.flags;
  if (Boolean(oauthTokenFile) === Boolean(apiKeyFile)) {
    throw new SettingError(
      "profile",
      "profile add: give exactly one of --oauth-token-file FILE or --api-key-file FILE",
    );
  }
  const kind = oauthTokenFile ? "oauth-token" : "api-key";
  const secret = readCredential(
    ops,
    oauthTokenFile ? "--oauth-token-file" : "--api-key-file",
    (oauthTokenFile ?? apiKeyFile)!,
  );
  const now = ops.now();
  const expiresAt = expires
    ? expiryDate(expires)
    : kind === "oauth-token"
      ? new Date(now.getTime() + OAUTH_TOKEN_LIFETIME_DAYS * DAY_MS).toISOString()
      : undefined;
  const profile: StoredProfile = {
    name,
    kind,
    createdAt: now.toISOString(),
    ...(expiresAt ? { expiresAt } : {}),
    secret,
  };
  const others = readProfiles(ops).filter((p) => p.name !== name);
  if (ops.flags.dryRun) {
    ops.say(`would store profile ${name} (${kind}) in ${profilesPath(ops)}`);
    return 0;
  }
  writeProfiles(ops, [...others, profile]);
  ops.say(
    `stored profile ${name} (${kind}${expiresAt ? `, expires ${expiresAt.slice(0, 10)}` : ""}) in ${profilesPath(ops)}; run \`pnpm fly recreate-hub\` so the hub offers it`,
  );
  return 0;
}

export function listProfiles(ops: Ops): number {
  const profiles = readProfiles(ops);
  if (profiles.length === 0) ops.say("no stored profiles (golden-claude machines are listed by `pnpm fly status`)");
  for (const p of profiles) {
    ops.say(
      `${p.name}\t${p.kind}\tcreated ${p.createdAt.slice(0, 10)}\t${p.expiresAt ? `expires ${p.expiresAt.slice(0, 10)}` : "no expiry"}`,
    );
  }
  return 0;
}

export function removeProfile(ops: Ops, nameArg: string | undefined): number {
  const name = profileName(nameArg);
  const profiles = readProfiles(ops);
  if (!profiles.some((p) => p.name === name)) {
    throw new SettingError("profile", `profile rm: there is no stored profile ${name} (see \`pnpm fly profile list\`)`);
  }
  if (ops.flags.dryRun) {
    ops.say(`would remove profile ${name} from ${profilesPath(ops)}`);
    return 0;
  }
  writeProfiles(
    ops,
    profiles.filter((p) => p.name !== name),
  );
  ops.say(`removed profile ${name}; run \`pnpm fly recreate-hub\` so the hub stops offering it`);
  return 0;
}
