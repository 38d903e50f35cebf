import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

/** A regular file found by `findAgentFiles`. */
export interface FoundFile {
  path: string;
  mtimeMs: number;
}

/** How many files one walk reports at most, so a folder of millions costs a bounded walk. */
const MAX_FOUND = 1_000;

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
  for (let folder = pending.pop(); folder !== undefined && found.length < MAX_FOUND; folder = pending.pop()) {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile() && entry.name.endsWith(suffix) && found.length < MAX_FOUND) {
        const info = await lstat(path).catch(() => undefined);
        if (info?.isFile()) found.push({ path, mtimeMs: info.mtimeMs });
      }
    }
  }
  return found;
}
