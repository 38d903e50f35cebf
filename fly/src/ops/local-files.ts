import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import type { CliSettings } from "./settings.js";

/** A path from a setting or flag, relative to the working directory. */
export function resolvePath(settings: CliSettings, path: string): string {
  return isAbsolute(path) ? path : join(settings.cwd, path);
}

/** A file in the CLI's state folder (`THOPTER_STATE_DIR`, default `.thopter`). */
export function statePath(settings: CliSettings, name: string): string {
  return join(resolvePath(settings, settings.THOPTER_STATE_DIR), name);
}

/** Reads a file, or `undefined` when it does not exist. */
export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Writes a secret for the owner only (0600), atomically, so a half-written file never exists. */
export function writeSecretFile(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}
