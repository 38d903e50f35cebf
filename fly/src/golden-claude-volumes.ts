import { createHash } from "node:crypto";

/**
 * A volume name within Fly's rule (`[a-z0-9_]`, under 30 characters) that is unique per name: the readable part
 * for people reading `fly volumes list`, the hash so `a-b` and `a_b` differ.
 */
function volumeNameFor(prefix: string, name: string): string {
  const readable = name.replace(/[^a-z0-9]/g, "_").slice(0, 14);
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
  return `${prefix}_${readable}_${hash}`;
}

/**
 * Where a golden claude's volume is mounted, on its machine and on every thopter made from its snapshot: the image's
 * `thopter` user has its home at `/data/thopter`, so the home sits at `thopter/` on the volume and a thopter whose
 * volume is a fork of it starts with that home in place.
 */
export const GOLDEN_CLAUDE_MOUNT = "/data";

/**
 * The volumes of golden claude `name`, by name: its home (made by `recreate-gc`) and its snapshots (forks of the
 * home made by `snapshot-gc`; the newest is the current one). The CLI names them, and the hub's Fly provider finds
 * them in the volume list it reads for every thopter anyway, so finding a snapshot costs no extra call.
 */
export function goldenClaudeVolumeNames(name: string): { home: string; snapshot: string } {
  return { home: volumeNameFor("gc", name), snapshot: volumeNameFor("gs", name) };
}
