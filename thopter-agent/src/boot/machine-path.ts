import { join } from "node:path";

/**
 * A path as the thopter sees it (`/etc/thopter/thopter.json`), on this host. On Fly the machine's `/` is the real
 * one; a local machine lives under `THOPTER_FS_ROOT` (its directory's `root/`), so every path the spec or this runtime
 * names is resolved under it. `fsRoot` is "" on Fly; the entry point reads it from THOPTER_FS_ROOT.
 */
export function machinePath(path: string, fsRoot: string): string {
  if (!path.startsWith("/")) throw new Error(`machine path ${JSON.stringify(path)} must be absolute`);
  return fsRoot ? join(fsRoot, path) : path;
}
