import { readdirSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { NAME_PATTERN } from "@thopter/protocol";

/** A file of a profile home, relative to it. */
export interface HomeFile {
  path: string;
  content: Buffer;
  mode: number;
}

/** The spec carries files inline: a home bigger than this belongs on a golden-claude machine, not in a spec. */
const MAX_HOME_BYTES = 8 * 1024 * 1024;

/**
 * Golden-claude homes of a local setup: each subfolder NAME of `dir` (PROFILE_HOMES_DIR) is profile NAME's home.
 * No folder: none.
 */
export function listProfileHomes(dir: string | undefined): string[] {
  if (!dir) return [];
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && NAME_PATTERN.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new Error(
      `PROFILE_HOMES_DIR: cannot read ${dir} (${(err as NodeJS.ErrnoException).code}); fix it or unset it`,
    );
  }
}

/**
 * The regular files of one profile home, with their modes. Symbolic links are left out (they could point anywhere
 * on the hub's host); a home over MAX_HOME_BYTES is refused, naming it.
 */
export async function readProfileHome(home: string): Promise<HomeFile[]> {
  const files: HomeFile[] = [];
  let total = 0;
  for (const entry of await readdir(home, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const [content, { mode }] = await Promise.all([readFile(path), stat(path)]);
    total += content.length;
    if (total > MAX_HOME_BYTES) {
      throw new Error(
        `profile home ${home} is over ${MAX_HOME_BYTES >> 20} MB; keep only the login and settings in it`,
      );
    }
    files.push({ path: relative(home, path), content, mode: mode & 0o777 });
  }
  return files;
}
