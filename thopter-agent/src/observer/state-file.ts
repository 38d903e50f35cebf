import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A JSON file in the observer's state folder, or undefined while there is none (or it is not JSON). */
export function readStateFile(stateDir: string, name: string): unknown {
  try {
    return JSON.parse(readFileSync(join(stateDir, name), "utf8"));
  } catch {
    return undefined;
  }
}

/** Replaced in one rename, so a reader (a hook, the observer) never sees half of it. */
export function writeStateFile(stateDir: string, name: string, value: unknown): void {
  const tmp = join(stateDir, `.${name}.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(value), { mode: 0o600 });
  renameSync(tmp, join(stateDir, name));
}
