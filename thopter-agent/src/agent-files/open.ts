import { constants, type Stats } from "node:fs";
import { type FileHandle, lstat, open, readlink, realpath } from "node:fs/promises";
import { sep } from "node:path";

/** Who must own a file root reads on the agent's behalf, and the folder it must really lie in. */
export interface AgentFileRules {
  /** The uid that must own the file (the agent's, or root's for root's own files in a root-owned folder). */
  owner: number;
  /** A folder whose path the agent cannot change (e.g. its home, made by root in a root-owned parent). */
  within: string;
}

/** Rules for this process's own files in `within` (a root-owned folder, like the boot log's). */
export function ownFiles(within: string): AgentFileRules {
  return { owner: process.getuid?.() ?? 0, within };
}

/** The file was there but is not one root may read: a link, FIFO, device, someone else's, or elsewhere. */
export class RefusedFile extends Error {
  override readonly name = "RefusedFile";
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path} ${reason}: not read`);
  }
}

// O_NONBLOCK: a FIFO swapped in after the lstat must not hang the thread pool; O_NOCTTY: a tty never becomes ours.
const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

/** Why `info` (of `path`) may not be read under `rules`, or undefined when it may. */
function refusal(info: Stats, rules: AgentFileRules): string | undefined {
  if (info.isSymbolicLink()) return "is a symbolic link";
  if (!info.isFile()) return "is not a regular file (a FIFO, device, socket or folder)";
  if (info.uid !== rules.owner) return `is owned by uid ${info.uid}, not ${rules.owner}`;
  return undefined;
}

function inside(folder: string, real: string): boolean {
  return real.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/**
 * Opens a file the agent controls, for reading by root, without ever following a link or opening a FIFO or device:
 * checked by lstat before the open (so no such file is opened at all), opened with O_NOFOLLOW|O_NONBLOCK (a swap in
 * between), then fstat must show the same regular file owned by `rules.owner`, whose real path (from /proc, so no
 * folder link on the way counts) lies inside `rules.within`. A hard link to another user's file fails the owner check.
 * Throws ENOENT as is (the file is not there yet) and `RefusedFile` for anything else that is wrong.
 */
export async function openAgentFile(path: string, rules: AgentFileRules): Promise<FileHandle> {
  const before = await lstat(path);
  const early = refusal(before, rules);
  if (early) throw new RefusedFile(path, early);
  let handle: FileHandle;
  try {
    handle = await open(path, FLAGS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") throw new RefusedFile(path, "is a symbolic link");
    throw err;
  }
  try {
    const info = await handle.stat();
    const late = refusal(info, rules);
    if (late) throw new RefusedFile(path, late);
    if (info.ino !== before.ino || info.dev !== before.dev) throw new RefusedFile(path, "was replaced while opened");
    const real = await readlink(`/proc/self/fd/${handle.fd}`);
    const folder = await realpath(rules.within);
    if (!inside(folder, real)) throw new RefusedFile(path, `lies outside ${rules.within}`);
    return handle;
  } catch (err) {
    await handle.close();
    throw err;
  }
}
