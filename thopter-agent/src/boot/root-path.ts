import { lstatSync, realpathSync, type Stats } from "node:fs";
import { dirname, isAbsolute } from "node:path";

/** Where programs are when no PATH is set. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Whether someone other than root could change what `info` (a folder on a PATH, or one above it) holds. */
function othersCanWrite(info: Stats, above: boolean): boolean {
  if (info.isSymbolicLink()) return info.uid !== 0;
  if (info.uid !== 0) return true;
  if (info.mode & 0o020 && info.gid !== 0) return true;
  // A sticky world-writable folder (/tmp) above is fine: nobody else can rename or remove root's folder in it.
  return (info.mode & 0o002) !== 0 && !(above && info.mode & 0o1000);
}

/** Whether `folder` and every folder above it are root's alone (both as written and as the links resolve). */
function rootsAlone(folder: string): boolean {
  if (!isAbsolute(folder)) return false;
  try {
    for (const path of [folder, realpathSync(folder)]) {
      for (let p = path, above = false; ; p = dirname(p), above = true) {
        if (othersCanWrite(lstatSync(p), above)) return false;
        if (p === dirname(p)) break;
      }
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * The PATH root may search: only folders that no one but root can write (nor any folder above them), since root runs
 * `git`, `tmux`, `getent`, `nft` by name and a program planted in such a folder would run as root. Relative and missing
 * entries go too. Returns what was dropped, for the boot log.
 */
export function rootSafePath(path: string): { path: string; dropped: string[] } {
  const entries = path.split(":");
  const kept = entries.filter((entry) => rootsAlone(entry));
  return { path: kept.join(":"), dropped: entries.filter((entry) => !kept.includes(entry)) };
}
