import { lstat, opendir } from "node:fs/promises";
import { join } from "node:path";

/** A regular file found by `findAgentFiles`. */
export interface FoundFile {
  path: string;
  mtimeMs: number;
}

/** How many files one walk reports at most, and how many entries it looks at: a planted tree costs a bounded walk. */
const MAX_FOUND = 1_000;
const MAX_ENTRIES = 20_000;

/**
 * The regular files named `*<suffix>` in `dir` and its subfolders, walked without following links: only entries the
 * kernel reports as folders are entered, links and anything not a regular file are skipped. `dir` itself must be a
 * folder (not a link); missing, it has no files. (A folder swapped for a link during the walk can show names from
 * elsewhere: whoever opens them checks them again, see `openAgentFile`.)
 */
export async function findAgentFiles(dir: string, suffix: string): Promise<FoundFile[]> {
  const top = await lstat(dir).catch(() => undefined);
  if (!top?.isDirectory()) return [];
  const found: FoundFile[] = [];
  const pending = [dir];
  let seen = 0;
  for (let folder = pending.pop(); folder !== undefined && seen < MAX_ENTRIES; folder = pending.pop()) {
    try {
      for await (const entry of await opendir(folder)) {
        if (++seen > MAX_ENTRIES) break;
        const path = join(folder, entry.name);
        if (entry.isDirectory()) pending.push(path);
        else if (entry.isFile() && entry.name.endsWith(suffix) && found.length < MAX_FOUND) {
          const info = await lstat(path).catch(() => undefined);
          if (info?.isFile()) found.push({ path, mtimeMs: info.mtimeMs });
        }
      }
    } catch {
      // Gone, or not a folder any more, since it was listed: what was found stands.
    }
  }
  return found;
}
