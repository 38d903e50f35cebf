import { readFileSync, statSync } from "node:fs";

/**
 * The hub's per-thopter access key, from the root-only file the spec delivered. Refuses a file others could read
 * (the agent must never mint its own tokens) and a key too short to be secret. Trailing newlines are not part of it.
 */
export function readAccessKey(path: string): Buffer {
  const { mode } = statSync(path);
  if ((mode & 0o077) !== 0) {
    throw new Error(
      `access key file ${path} has mode ${(mode & 0o777).toString(8)}; it must be readable by its owner only (chmod 600)`,
    );
  }
  const key = Buffer.from(readFileSync(path, "utf8").replace(/[\r\n]+$/, ""), "utf8");
  if (key.length < 32) throw new Error(`access key in ${path} is ${key.length} bytes; the hub must write at least 32`);
  return key;
}
