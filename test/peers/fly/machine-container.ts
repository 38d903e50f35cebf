import type { MachineConfig } from "@thopter/fly";
import type Docker from "dockerode";
import { pack } from "tar-stream";
import type { EngineVolumes } from "./engine-volumes.js";
import { PeerError } from "./peer-error.js";

/** How the peer runs started machines as containers of their `config.image` (a Docker Engine API: Docker or Podman). */
export interface ContainerOptions {
  docker: Docker;
  /** Capabilities beyond the engine's default set: a Fly machine's root holds them all; NET_ADMIN lets it firewall. */
  capAdd?: string[];
  /** The machines' DNS servers (their /etc/resolv.conf), as Fly gives each machine its resolver. */
  dns?: string[];
  /** How long a stopped machine gets after SIGTERM before SIGKILL (Fly's default kill timeout: 5 s). */
  stopGraceMs?: number;
}

/** The label every container and volume of one peer carries (its value: the peer's id), so teardown finds them all. */
export const PEER_LABEL = "dev.thopter.fly-peer";

/** Refuses, at create time, a machine the peer could not run as a container. */
export function checkContainerRunnable(config: MachineConfig): void {
  if (!config.image) throw new PeerError(400, "config.image is required");
  for (const file of config.files ?? []) {
    if (!file.guest_path?.startsWith("/")) throw new PeerError(400, "files[].guest_path must be an absolute path");
    if (file.raw_value === undefined) {
      throw new PeerError(400, `file ${file.guest_path}: the Fly peer has no app secrets; send raw_value (base64)`);
    }
  }
}

/** The machine's files as Fly's init writes them: root's, with their modes (0644 unless given). */
function filesTar(config: MachineConfig): Promise<Buffer> {
  const tar = pack();
  for (const file of config.files ?? []) {
    const body = Buffer.from(file.raw_value ?? "", "base64");
    tar.entry({ name: file.guest_path!.slice(1), mode: file.mode ?? 0o644, uid: 0, gid: 0, size: body.length }, body);
  }
  tar.finalize();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    tar.on("data", (chunk) => chunks.push(chunk as Buffer));
    tar.on("end", () => resolve(Buffer.concat(chunks)));
    tar.on("error", reject);
  });
}

/** Fly's rule: `init.exec` replaces everything; else `init.entrypoint` and `init.cmd` each replace the image's own. */
async function commandOf(docker: Docker, config: MachineConfig): Promise<{ Entrypoint?: string[]; Cmd?: string[] }> {
  const init = config.init ?? {};
  if (init.exec?.length) return { Entrypoint: init.exec, Cmd: [] };
  const image = await docker
    .getImage(config.image!)
    .inspect()
    .catch((err: Error) => {
      throw new PeerError(400, `image ${config.image} is not on the container engine: ${err.message}`);
    });
  return {
    Entrypoint: init.entrypoint?.length ? init.entrypoint : (image.Config.Entrypoint ?? undefined),
    Cmd: init.cmd?.length ? init.cmd : (image.Config.Cmd ?? []),
  } as { Entrypoint?: string[]; Cmd?: string[] };
}

/** The engine's log stream without a TTY: frames of an 8-byte header (stream, 0, 0, 0, size BE32) and a payload. */
function demux(raw: Buffer): string {
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(at + 4);
    parts.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString("utf8");
}

/** One machine running as a container; `exited` fires once when it stops by itself. */
export class MachineContainer {
  private stopping = false;

  private constructor(
    private readonly container: Docker.Container,
    private readonly graceMs: number,
    /** The container's address on the engine's network: the machine's `private_ip`. */
    readonly privateIp: string | undefined,
  ) {}

  static async start(
    machineId: string,
    config: MachineConfig,
    env: Record<string, string>,
    options: ContainerOptions & { peerId: string },
    exited: () => void,
    volumes: EngineVolumes,
  ): Promise<MachineContainer> {
    const { docker } = options;
    const container = await docker.createContainer({
      name: `fly-peer-${machineId}`,
      Image: config.image!,
      ...(await commandOf(docker, config)),
      Env: Object.entries({ ...config.env, ...env }).map(([k, v]) => `${k}=${v}`),
      Labels: { [PEER_LABEL]: options.peerId, "dev.thopter.fly-machine": machineId },
      HostConfig: {
        CapAdd: options.capAdd ?? [],
        Dns: options.dns ?? [],
        Mounts: (config.mounts ?? []).map((m) => ({
          Type: "volume" as const,
          Source: volumes.name(m.volume!),
          Target: m.path!,
        })),
      },
    });
    try {
      await container.putArchive(await filesTar(config), { path: "/" });
      await container.start();
      const inspected = await container.inspect();
      const networks = Object.values(inspected.NetworkSettings.Networks ?? {});
      const ip = networks.find((n) => n.IPAddress)?.IPAddress;
      const machine = new MachineContainer(container, options.stopGraceMs ?? 5_000, ip || undefined);
      void container.wait().then(
        () => !machine.stopping && exited(),
        () => !machine.stopping && exited(),
      );
      return machine;
    } catch (err) {
      await container.remove({ force: true }).catch(() => {});
      throw err;
    }
  }

  /** The container's output so far (the machine's console), for a test's failure message. */
  async console(): Promise<string> {
    return demux(await this.container.logs({ stdout: true, stderr: true, follow: false }));
  }

  /** SIGTERM, SIGKILL after the grace period (at once with `graceMs` 0); its volumes keep their data. */
  async stop(graceMs = this.graceMs): Promise<void> {
    this.stopping = true;
    await this.container.stop({ t: Math.ceil(graceMs / 1000) }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 304 && err.statusCode !== 404) throw err;
    });
  }

  /** Kills it and removes the container, as destroying a Fly machine discards its root filesystem (not its volumes). */
  async remove(graceMs = this.graceMs): Promise<void> {
    await this.stop(graceMs);
    await this.container.remove({ force: true }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
  }
}
