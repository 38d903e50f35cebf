import { readFileSync } from "node:fs";
import { OAUTH_TOKEN_LIFETIME_DAYS, type StoredProfile } from "@thopter/protocol";
import type { Ops } from "../context.js";
import { resolvePath } from "../local-files.js";
import { mergeProfiles, profilesPath, readProfiles, writeProfiles } from "../profiles.js";
import { profileName, SettingError } from "../settings.js";
import { currentHub, hubProfiles, refreshHub } from "./hub.js";

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

async function tellHub(ops: Ops, change: { removeProfile?: string }): Promise<void> {
  if (await refreshHub(ops, change)) ops.say("the hub was recreated with the new profile list");
  else ops.say("there is no hub yet; `pnpm fly recreate-hub` will give it the profiles");
}

/** `profile add NAME --oauth-token-file F | --api-key-file F [--expires YYYY-MM-DD]`: stores it and tells the hub. */
export async function addProfile(ops: Ops, nameArg: string | undefined): Promise<number> {
  const name = profileName(nameArg);
  const { oauthTokenFile, apiKeyFile, expires } = ops.flags;
  if (Boolean(oauthTokenFile) === Boolean(apiKeyFile)) {
    throw new SettingError(
      "profile",
      "profile add: give exactly one of --oauth-token-file FILE or --api-key-file FILE",
    );
  }
  const kind = oauthTokenFile ? "oauth-token" : "api-key";
  const flag = oauthTokenFile ? "--oauth-token-file" : "--api-key-file";
  const secret = readCredential(ops, flag, (oauthTokenFile ?? apiKeyFile) as string);
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
  if (!ops.flags.dryRun) writeProfiles(ops, mergeProfiles(readProfiles(ops), [profile]));
  const expiry = expiresAt ? `, expires ${expiresAt.slice(0, 10)}` : "";
  ops.say(`${ops.flags.dryRun ? "would store" : "stored"} profile ${name} (${kind}${expiry}) in ${profilesPath(ops)}`);
  await tellHub(ops, {});
  return 0;
}

/** `profile list`: the profiles here and on the hub (credentials never shown). */
export async function listProfiles(ops: Ops): Promise<number> {
  const hub = await currentHub(ops);
  const profiles = mergeProfiles(hub ? hubProfiles(hub) : [], readProfiles(ops));
  if (profiles.length === 0) ops.say("no stored profiles (golden-claude machines are listed by `pnpm fly status`)");
  for (const p of profiles) {
    const expiry = p.expiresAt ? `expires ${p.expiresAt.slice(0, 10)}` : "no expiry";
    ops.say(`${p.name}\t${p.kind}\tcreated ${p.createdAt.slice(0, 10)}\t${expiry}`);
  }
  return 0;
}

/** `profile rm NAME`: from the local store and from the hub. */
export async function removeProfile(ops: Ops, nameArg: string | undefined): Promise<number> {
  const name = profileName(nameArg);
  const local = readProfiles(ops);
  const hub = await currentHub(ops);
  if (!local.some((p) => p.name === name) && !(hub && hubProfiles(hub).some((p) => p.name === name))) {
    throw new SettingError("profile", `profile rm: there is no stored profile ${name} (see \`pnpm fly profile list\`)`);
  }
  if (!ops.flags.dryRun)
    writeProfiles(
      ops,
      local.filter((p) => p.name !== name),
    );
  ops.say(`${ops.flags.dryRun ? "would remove" : "removed"} profile ${name}`);
  await tellHub(ops, { removeProfile: name });
  return 0;
}
