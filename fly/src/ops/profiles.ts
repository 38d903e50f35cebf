import { StoredProfile } from "@thopter/protocol";
import { z } from "zod";
import type { Ops } from "./context.js";
import { readIfExists, statePath, writeSecretFile } from "./local-files.js";
import { SettingError } from "./settings.js";

const ProfileList = z.array(StoredProfile);

/** The local store of credential profiles: `<THOPTER_STATE_DIR>/profiles.json`, owner-only. */
export function profilesPath(ops: Ops): string {
  return statePath(ops.settings, "profiles.json");
}

/** A profile list as JSON (local store or the hub's copy), or a `SettingError` naming where it came from. */
export function parseProfiles(text: string, where: string): StoredProfile[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SettingError("profiles", `${where}: is not JSON; fix or remove it`);
  }
  const parsed = ProfileList.safeParse(json);
  if (!parsed.success) {
    throw new SettingError(
      "profiles",
      `${where}: is not a list of profiles (${parsed.error.issues[0]?.message}); fix or remove it`,
    );
  }
  return parsed.data;
}

export function readProfiles(ops: Ops): StoredProfile[] {
  const path = profilesPath(ops);
  const text = readIfExists(path);
  return text === undefined ? [] : parseProfiles(text, path);
}

export function writeProfiles(ops: Ops, profiles: StoredProfile[]): void {
  writeSecretFile(profilesPath(ops), `${JSON.stringify(profiles, null, 2)}\n`);
}

/** `base` with `overrides` replacing profiles of the same name, sorted by name. */
export function mergeProfiles(base: StoredProfile[], overrides: StoredProfile[]): StoredProfile[] {
  const byName = new Map(base.map((p) => [p.name, p]));
  for (const profile of overrides) byName.set(profile.name, profile);
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}
