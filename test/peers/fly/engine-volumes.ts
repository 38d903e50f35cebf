import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type Docker from "dockerode";
import { PEER_LABEL } from "./machine-container.js";

const run = promisify(execFile);

/**
 * The peer's volumes as named volumes of the container engine, for machines run as containers: `fly-peer-<volume id>`,
 * labelled with the peer's id. A fork (`source_volume_id`) starts as a copy of its source's data, owners and modes
 * kept (`cp -a` between the volumes' directories: the engine runs on this host, as root), as a block-level fork would.
 */
export class EngineVolumes {
  constructor(
    private readonly docker: Docker,
    private readonly peerId: string,
  ) {}

  name(volumeId: string): string {
    return `fly-peer-${volumeId}`;
  }

  async create(volumeId: string, sourceId?: string): Promise<void> {
    await this.docker.createVolume({ Name: this.name(volumeId), Labels: { [PEER_LABEL]: this.peerId } });
    if (!sourceId) return;
    const [from, to] = await Promise.all([this.mountpoint(sourceId), this.mountpoint(volumeId)]);
    await run("cp", ["-a", "--", `${from}/.`, to]);
  }

  async remove(volumeId: string): Promise<void> {
    await this.docker
      .getVolume(this.name(volumeId))
      .remove()
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404) throw err;
      });
  }

  private async mountpoint(volumeId: string): Promise<string> {
    return (await this.docker.getVolume(this.name(volumeId)).inspect()).Mountpoint;
  }
}

/** This peer's containers and volumes still on the engine (teardown must leave none). */
export async function engineLeftovers(docker: Docker, peerId: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${PEER_LABEL}=${peerId}`] });
  const [containers, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listVolumes({ filters }),
  ]);
  return [
    ...containers.map((c) => `container ${c.Names?.[0] ?? c.Id}`),
    ...(volumes.Volumes ?? []).map((v) => `volume ${v.Name}`),
  ];
}
