import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** uid and gid of a local user, through `id` so users from any NSS source count, not only /etc/passwd. */
export async function lookupUser(name: string): Promise<{ uid: number; gid: number }> {
  try {
    const [uid, gid] = await Promise.all([run("id", ["-u", "--", name]), run("id", ["-g", "--", name])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    throw new Error(
      `LOCAL_THOPTER_USER ${JSON.stringify(name)} does not exist on this host: create it (useradd --create-home ${name}) or set LOCAL_THOPTER_USER to an existing unprivileged user`,
    );
  }
}

/**
 * The first directory on the way from `/` down to `path` that users other than its owner cannot pass through (no
 * o+x), or undefined: the agent user has to reach its files under LOCAL_THOPTER_ROOT once the entrypoint drops to it.
 */
export async function closedAncestor(path: string): Promise<string | undefined> {
  const parts = resolve(path).split("/").filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const dir = `/${parts.slice(0, i).join("/")}`;
    const info = await stat(dir).catch(() => undefined);
    if (info === undefined) return undefined; // not made yet: the provider makes it traversable
    if ((info.mode & 0o001) === 0) return dir;
  }
  return undefined;
}
