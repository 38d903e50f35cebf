import { setTimeout as sleep } from "node:timers/promises";
import type { MachineRef, ThopterSpec } from "@thopter/protocol";
import type Docker from "dockerode";
import type { ContainerInfo, ContainerInspectInfo } from "dockerode";
import type { Logger } from "pino";
import {
  checkThopterId,
  type MachineInfo,
  type MachineOwner,
  type MachineState,
  type Provider,
  parseSpec,
} from "../provider.js";
import {
  containerName,
  containerState,
  createOptions,
  type DockerSettings,
  LABELS,
  labelsOf,
  specArchive,
} from "./container-config.js";
import { engineMessage, explainEngineError, isConflict, isNotFound, missingImageError } from "./engine-errors.js";
import { logTail } from "./log-tail.js";

export interface DockerProviderOptions extends DockerSettings {
  docker: Docker;
  /** DOCKER_HOST as the user set it, for error messages. */
  dockerHost: string;
  log: Logger;
  /** How long a stopping container gets for its SIGTERM before the engine kills it; default 5. */
  stopGraceSeconds?: number;
  /** How long a started container must keep running for create to count it as started; default 1000 ms. */
  settleMs?: number;
}

/**
 * Thopters as containers on a Docker Engine API (Docker, or Podman's service): one container and one named volume per
 * thopter, both named after it and labelled with the hub's id, so a retried create meets what the first one made and
 * a restarted hub finds its own. Whatever fails after the volume exists is removed before the error reaches the caller.
 */
export class DockerProvider implements Provider {
  readonly kind = "docker";
  /** Secrets are root-only files in the container; the agent runs as the image's unprivileged user. */
  readonly isolation = "full";
  /** thopter/Dockerfile's CMD. */
  readonly entrypoint = ["/opt/thopter/thopter/entrypoint.sh"];
  private readonly docker: Docker;
  private readonly log: Logger;

  constructor(private readonly options: DockerProviderOptions) {
    if (!options.image) throw new Error("THOPTER_IMAGE is empty: set it to the thopter image (e.g. thopter:latest)");
    this.docker = options.docker;
    this.log = options.log;
  }

  async create(input: ThopterSpec, owner: MachineOwner): Promise<MachineRef> {
    const spec = parseSpec(input);
    checkThopterId(spec, owner);
    return this.engine(async () => {
      const existing = await this.inspect(containerName(this.options.hubId, owner.thopterId));
      if (existing?.State.Running) return this.refOf(existing);
      if (existing) {
        // An earlier attempt's container that never started or has ended: a retry starts from nothing.
        this.log.warn({ thopterId: owner.thopterId, state: existing.State.Status }, "replacing a stopped container");
        await this.destroy(this.refOf(existing));
      }
      await this.checkImage();
      return this.make(spec, owner);
    });
  }

  private async make(spec: ThopterSpec, owner: MachineOwner): Promise<MachineRef> {
    const name = containerName(this.options.hubId, owner.thopterId);
    // A volume of this name is one an interrupted create left (Podman says 409, Docker returns it): reuse it.
    await this.docker.createVolume({ Name: name, Labels: labelsOf(owner, this.options.hubId) }).catch((err) => {
      if (!isConflict(err)) throw err;
    });
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(createOptions(spec, owner, this.options));
    } catch (err) {
      // Another create for this thopter got there first: that one is its container (and holds the volume).
      if (isConflict(err)) return this.refOf((await this.inspect(name))!);
      await this.removeVolume(name);
      throw err;
    }
    try {
      await container.putArchive(await specArchive(spec), { path: "/" });
      await container.start();
      const started = await this.settled(container);
      if (!started.State.Running) {
        const logs = await logTail(container);
        throw new Error(`it exited at once with code ${started.State.ExitCode}${logs ? `: ${logs}` : ""}`);
      }
      this.log.info({ thopterId: owner.thopterId, container: started.Id }, "container started");
      return this.refOf(started);
    } catch (err) {
      await this.destroy({ provider: "docker", id: name, volumeId: name }).catch((cleanup) =>
        this.log.error({ thopterId: owner.thopterId, err: cleanup }, "could not remove a container that failed"),
      );
      throw new Error(
        `the container for thopter ${owner.thopterId} did not start: ${engineMessage(err)}; it and its volume were removed`,
      );
    }
  }

  /** The container's state once it has run for `settleMs`, or as soon as it has exited (a boot that fails at once). */
  private async settled(container: Docker.Container): Promise<ContainerInspectInfo> {
    const deadline = Date.now() + (this.options.settleMs ?? 1000);
    for (;;) {
      const state = await container.inspect();
      if (!state.State.Running || Date.now() >= deadline) return state;
      await sleep(100);
    }
  }

  private async checkImage(): Promise<void> {
    try {
      await this.docker.getImage(this.options.image).inspect();
    } catch (err) {
      throw isNotFound(err) ? missingImageError(this.options.image) : err;
    }
  }

  /** SIGTERM, the grace period, SIGKILL; then the container and its volume are removed. Gone already is fine. */
  async destroy(ref: MachineRef): Promise<void> {
    if (ref.provider !== "docker") throw new Error(`not a docker container: ${JSON.stringify(ref)}`);
    await this.engine(async () => {
      const container = this.docker.getContainer(ref.id);
      try {
        await container.stop({ t: this.options.stopGraceSeconds ?? 5 });
      } catch (err) {
        // 304: not running; 404: gone.
        if (!(isNotFound(err) || (err as { statusCode?: number }).statusCode === 304)) throw err;
      }
      await container.remove({ force: true }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      if (ref.volumeId) await this.removeVolume(ref.volumeId);
      this.log.info({ container: ref.id, volume: ref.volumeId }, "container and volume removed");
    });
  }

  private async removeVolume(name: string): Promise<void> {
    await this.docker
      .getVolume(name)
      .remove()
      .catch((err) => {
        if (!isNotFound(err)) throw err;
      });
  }

  async list(): Promise<MachineInfo[]> {
    const containers = await this.engine(() => this.ownContainers());
    return containers.flatMap((c) => {
      const info = this.infoOf(c);
      return info ? [info] : [];
    });
  }

  async status(ref: MachineRef): Promise<MachineState> {
    const found = await this.engine(() => this.inspect(ref.id));
    return found ? containerState(found.State.Status) : "gone";
  }

  /**
   * Removes this hub's thopter volumes that no container holds and that are older than `olderThanMs` (default 10
   * minutes): what a hub that died between making a volume and its container leaves. Returns their names.
   */
  async removeLeftovers(olderThanMs = 10 * 60_000): Promise<string[]> {
    return this.engine(async () => {
      const cutoff = Date.now() - olderThanMs;
      const containers = await this.ownContainers();
      const held = new Set(containers.flatMap((c) => c.Names.map((n) => n.replace(/^\//, ""))));
      const { Volumes } = await this.docker.listVolumes({ filters: this.ownFilter() });
      const own = (Volumes ?? []).filter((v) => v.Labels?.[LABELS.hub] === this.options.hubId);
      const createdAt = (v: object) => Date.parse((v as { CreatedAt?: string }).CreatedAt ?? "");
      const orphans = own.filter((v) => !held.has(v.Name) && createdAt(v) < cutoff).map((v) => v.Name);
      for (const name of orphans) await this.removeVolume(name);
      if (orphans.length > 0) this.log.warn({ volumes: orphans }, "removed orphaned thopter volumes");
      return orphans;
    });
  }

  /** Where containers reach this host: the gateway of their network, where the collector must listen. */
  async hostAddress(): Promise<string> {
    const network = await this.engine(() => this.docker.getNetwork(this.options.network).inspect());
    const gateway = (network as { IPAM?: { Config?: Array<{ Gateway?: string }> } }).IPAM?.Config?.find(
      (c) => c.Gateway,
    )?.Gateway;
    if (!gateway) throw new Error(`docker network ${this.options.network} has no gateway: set COLLECTOR_HOST`);
    return gateway;
  }

  /**
   * One label only: Podman joins several label filters with OR, Docker with AND. The hub label implies a thopter's,
   * and callers check it again on what comes back.
   */
  private ownFilter() {
    return JSON.stringify({ label: [`${LABELS.hub}=${this.options.hubId}`] });
  }

  private async ownContainers(): Promise<ContainerInfo[]> {
    const found = await this.docker.listContainers({ all: true, filters: this.ownFilter() });
    return found.filter((c) => c.Labels?.[LABELS.hub] === this.options.hubId);
  }

  private async inspect(idOrName: string): Promise<ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(idOrName).inspect();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Runs engine calls, turning "nothing listens at DOCKER_HOST" into an error that says to start the daemon. */
  private async engine<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw explainEngineError(err, this.options.dockerHost);
    }
  }

  /** The container's address on its network (Podman reports its default network as `podman`, though asked `bridge`). */
  private addressOn(networks: Record<string, { IPAddress?: string }> | undefined): string | undefined {
    const network = networks?.[this.options.network] ?? Object.values(networks ?? {})[0];
    return network?.IPAddress || undefined;
  }

  private refOf(c: ContainerInspectInfo): MachineRef {
    const address = this.addressOn(c.NetworkSettings.Networks);
    return { provider: "docker", id: c.Id, volumeId: c.Name.replace(/^\//, ""), ...(address ? { address } : {}) };
  }

  private infoOf(c: ContainerInfo): MachineInfo | undefined {
    const labels = c.Labels ?? {};
    const issueNumber = Number(labels[LABELS.issue]);
    const thopterId = labels[LABELS.id];
    const repo = labels[LABELS.repo];
    if (!thopterId || !repo || !Number.isInteger(issueNumber)) {
      this.log.warn({ container: c.Id }, "container labelled as a thopter lacks its id, repo or issue: ignored");
      return undefined;
    }
    const address = this.addressOn(c.NetworkSettings?.Networks);
    return {
      ref: {
        provider: "docker",
        id: c.Id,
        volumeId: containerName(this.options.hubId, thopterId),
        ...(address ? { address } : {}),
      },
      thopterId,
      repo,
      issueNumber,
      state: containerState(c.State),
      detail: c.Status || c.State,
      createdAt: new Date(c.Created * 1000).toISOString(),
    };
  }
}
