import { readFile } from "node:fs/promises";
import { secretKeys, ThopterEnvError } from "@thopter/protocol";
import { parse as parseDotenv } from "dotenv";

/** THOPTER_ENV_FILE's values and which are secret (marking: `protocol/src/env-secrets.ts`). */
export interface ThopterEnv {
  values: Record<string, string>;
  /** Names of the secret keys. */
  secretNames: string[];
}

/** Parses the file's text; a secret the hub cannot protect is an error naming the key and what to do. */
export function parseThopterEnv(text: string): ThopterEnv {
  const values = parseDotenv(text);
  return { values, secretNames: secretKeys(text, values) };
}

/**
 * The file at `path` (none: nothing). Read at hub start (a bad file stops the hub with one line) and anew for every
 * thopter, so an edit applies to the next one.
 */
export async function readThopterEnv(path: string): Promise<ThopterEnv> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { values: {}, secretNames: [] };
    throw new ThopterEnvError(`cannot read THOPTER_ENV_FILE ${path}: ${(err as Error).message}`);
  }
  return parseThopterEnv(text);
}

/** The secret values a thopter holds: its marked `.env.thopters` values and the profile's model credential. */
export function secretValues(env: ThopterEnv, profileEnv: Record<string, string> = {}): string[] {
  return [...new Set([...env.secretNames.map((k) => env.values[k]!), ...Object.values(profileEnv)])];
}
