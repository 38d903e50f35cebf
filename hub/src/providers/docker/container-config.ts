import type { ThopterSpec } from "@thopter/protocol";
import type { ContainerCreateOptions } from "dockerode";
import { pack } from "tar-stream";
import { ownershipStep } from "../fly/machine-config.js";
import type { MachineOwner, MachineState } from "../provider.js";

/** How a thopter container looks, apart from its spec: the hub's configuration. */
export interface DockerSettings {
  /** THOPTER_IMAGE */
  image: string;
  /** Marks this hub's containers and volumes, so two hubs on one engine never reconcile each other's. */
  hubId: string;
  /** The engine network each container joins (its own network namespace on it); the collector listens on its gateway. */
  network: string;
  cpus: number;
  memoryMb: number;
  pidsLimit: number;
  /** Where the thopter's volume is mounted, as on Fly. */
  volumePath: string;
  /** The unprivileged user in the image that owns the spec's `thopter` files. */
  agentUser: string;
}

export const LABELS = {
  thopter: "thopter",
  hub: "thopter.hub",
  id: "thopter.id",
  repo: "thopter.repo",
  issue: "thopter.issue",
} as const;

/** The labels a thopter's container and volume carry: a restarted hub finds its own by `thopter.hub`. */
export function labelsOf(owner: MachineOwner, hubId: string): Record<string, string> {
  return {
    [LABELS.thopter]: "1",
    [LABELS.hub]: hubId,
    [LABELS.id]: owner.thopterId,
    [LABELS.repo]: owner.repo,
    [LABELS.issue]: String(owner.issueNumber),
  };
}

/**
 * One name per thopter for its container and its volume: a retried create meets what the first one made. The hub id
 * is part of it, so two hubs on one engine (whose thopter ids may repeat) never meet each other's.
 */
export const containerName = (hubId: string, thopterId: string) => `thopter-${hubId}-${thopterId}`;

/**
 * The create request. The entrypoint holds NET_ADMIN (to apply the egress firewall in the container's own network
 * namespace) and the engine's default set to drop to the agent user; `no-new-privileges` keeps the agent from getting
 * any back through a set-id binary. The spec's files arrive by `putArchive` before start (see `specArchive`); the
 * init gives the `thopter` ones to the agent user, exactly as on Fly.
 */
export function createOptions(spec: ThopterSpec, owner: MachineOwner, s: DockerSettings): ContainerCreateOptions {
  return {
    name: containerName(s.hubId, owner.thopterId),
    Image: s.image,
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Entrypoint: ["/bin/sh", "-c", ownershipStep(spec.files, s.agentUser), "thopter-init"],
    Cmd: spec.entrypoint,
    Labels: labelsOf(owner, s.hubId),
    HostConfig: {
      NetworkMode: s.network,
      Mounts: [{ Type: "volume", Source: containerName(s.hubId, owner.thopterId), Target: s.volumePath }],
      CapAdd: ["NET_ADMIN"],
      CapDrop: ["NET_RAW", "MKNOD", "AUDIT_WRITE", "SYS_CHROOT"],
      SecurityOpt: ["no-new-privileges"],
      NanoCpus: Math.round(s.cpus * 1e9),
      Memory: s.memoryMb * 1024 * 1024,
      PidsLimit: s.pidsLimit,
      RestartPolicy: { Name: "no" },
    },
  };
}

/** The spec's files as a tar for `putArchive` at `/`: owned by root (the init re-owns the agent's), moded as given. */
export async function specArchive(spec: ThopterSpec): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on("data", (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => tar.on("end", () => resolve()).on("error", reject));
  for (const file of spec.files) {
    const content = Buffer.from(file.contentBase64, "base64");
    tar.entry({ name: file.path.slice(1), mode: file.mode, uid: 0, gid: 0, size: content.length }, content);
  }
  tar.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Docker's container states in the provider's words; anything else counts as stopped. */
const STATES: Record<string, MachineState> = {
  created: "starting",
  restarting: "starting",
  running: "running",
  paused: "running",
  removing: "stopping",
  exited: "stopped",
  dead: "stopped",
};

export const containerState = (state: string | undefined): MachineState => STATES[state ?? ""] ?? "stopped";
