import { stat } from "node:fs/promises";
import { resolve } from "node:path";

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
