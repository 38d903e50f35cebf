import { createHash } from "node:crypto";
import type { CreateMachineRequest, MachineConfig, Volume } from "@thopter/fly";
import type { SpecFile, ThopterSpec } from "@thopter/protocol";
import type { MachineOwner } from "../provider.js";

/** How a thopter machine looks on Fly, apart from its spec: the hub's configuration. */
export interface FlyMachineSettings {
  image: string;
  region?: string;
  guest: NonNullable<MachineConfig["guest"]>;
  /** Where the thopter's volume is mounted. */
  volumePath: string;
  /** The unprivileged user in the image that owns the spec's `thopter` files. */
  agentUser: string;
}

/** Metadata every thopter machine carries: `thopter=1` finds the hub's machines, the rest says whose each one is. */
function thopterMetadata(owner: MachineOwner): Record<string, string> {
  return { thopter: "1", thopter_id: owner.thopterId, repo: owner.repo, issue: String(owner.issueNumber) };
}

/**
 * The thopter's volume name: unique per thopter (so a retried create finds the volume it already made) and within
 * Fly's rule for volume names (lowercase letters, digits and `_`, under 30 characters). The readable part is for
 * people reading `fly volumes list`; the hash makes it unique.
 */
export function volumeName(thopterId: string): string {
  const readable = thopterId.replace(/[^a-z0-9]/g, "_").slice(0, 10);
  const hash = createHash("sha256").update(thopterId).digest("hex").slice(0, 12);
  return `t_${readable}_${hash}`;
}

/** Matches the names volumeName makes, and only those (to tell thopter volumes from others in the app). */
export const VOLUME_NAME = /^t_[a-z0-9_]{0,10}_[0-9a-f]{12}$/;

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Fly writes machine files as root; it has no owner field. The init therefore starts with a short root shell step that
 * gives the spec's `thopter` files to the agent user (mode restated, since chown clears set-id bits) and then execs
 * the spec's entrypoint. `THOPTER_FS_ROOT` is empty on Fly and points at the machine's directory under the Fly peer.
 */
export function ownershipStep(files: readonly SpecFile[], agentUser: string): string {
  const lines = files
    .filter((f) => f.owner === "thopter")
    .map((f) => {
      const path = `"\${THOPTER_FS_ROOT-}"${quote(f.path)}`;
      return `chown ${quote(`${agentUser}:`)} ${path} && chmod ${f.mode.toString(8)} ${path}`;
    });
  if (lines.length === 0) return 'exec "$@"';
  return `set -e\nif [ "$(id -u)" = 0 ]; then\n${lines.join("\n")}\nfi\nexec "$@"`;
}

/** The create-machine request for one thopter: its spec, its volume, its metadata, and no restarts. */
export function machineRequest(
  spec: ThopterSpec,
  owner: MachineOwner,
  volume: Volume,
  settings: FlyMachineSettings,
): CreateMachineRequest & { name: string } {
  // A machine can only mount a volume in its own region.
  const region = volume.region ?? settings.region;
  return {
    name: owner.thopterId,
    ...(region ? { region } : {}),
    config: {
      image: settings.image,
      guest: settings.guest,
      env: spec.env,
      files: spec.files.map((f) => ({ guest_path: f.path, raw_value: f.contentBase64, mode: f.mode })),
      init: {
        entrypoint: ["/bin/sh", "-c", ownershipStep(spec.files, settings.agentUser), "thopter-init"],
        cmd: spec.entrypoint,
      },
      mounts: [{ volume: volume.id, path: settings.volumePath }],
      metadata: thopterMetadata(owner),
      restart: { policy: "no" },
    },
  };
}
