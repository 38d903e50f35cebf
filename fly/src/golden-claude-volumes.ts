import { createHash } from "node:crypto";

/** Up to `length` characters of `name` for people reading `fly volumes list`, in Fly's volume-name alphabet. */
const readable = (name: string, length: number) => name.replace(/[^a-z0-9]/g, "_").slice(0, length);
/** What makes the name unique: `a-b` and `a_b` read the same. */
const hash = (name: string) => createHash("sha256").update(name).digest("hex").slice(0, 8);

/**
 * Where a golden claude's volume is mounted, on its machine and on every thopter made from its snapshot: the image's
 * `thopter` user has its home at `/data/thopter`, so the home sits at `thopter/` on the volume and a thopter whose
 * volume is a fork of it starts with that home in place.
 */
export const GOLDEN_CLAUDE_MOUNT = "/data";

export interface GoldenClaudeVolumeNames {
  /** The home volume `recreate-gc` makes (and keeps across recreations). */
  home: string;
  /** A new snapshot's name: unique per snapshot, so a create retried after a lost response finds its own. */
  snapshot(at: Date): string;
  /** Whether a volume is one of this golden claude's snapshots. */
  isSnapshot(volumeName: string | undefined): boolean;
}

/**
 * The volumes of golden claude `name`, by name (within Fly's rule: `[a-z0-9_]`, under 30 characters): its home and
 * its snapshots (forks of the home made by `snapshot-gc`; the newest is the current one). The CLI names them, and the
 * hub's Fly provider finds them in the volume list it reads for every thopter anyway, so finding a snapshot costs no
 * extra call.
 */
export function goldenClaudeVolumeNames(name: string): GoldenClaudeVolumeNames {
  const snapshotPrefix = `gs_${readable(name, 8)}_${hash(name)}_`;
  return {
    home: `gc_${readable(name, 14)}_${hash(name)}`,
    snapshot: (at) => `${snapshotPrefix}${at.getTime().toString(36)}`,
    isSnapshot: (volumeName) => volumeName?.startsWith(snapshotPrefix) ?? false,
  };
}
