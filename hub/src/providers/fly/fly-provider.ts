import { FlyApiError, type FlyMachinesClient, isWaitTimeout, type Machine, type Volume } from "@thopter/fly";
import type { MachineRef, ThopterSpec } from "@thopter/protocol";
import type { Logger } from "pino";
import {
  checkThopterId,
  type MachineInfo,
  type MachineOwner,
  type MachineState,
  type Provider,
  parseSpec,
} from "../provider.js";
import { profileOf, snapshotFor } from "./golden-claude.js";
import { type FlyMachineSettings, machineRequest, VOLUME_NAME, volumeName } from "./machine-config.js";
import { machineState } from "./machine-state.js";
import { guestFor } from "./vm-size.js";

export interface FlyProviderOptions {
  client: FlyMachinesClient;
  /** THOPTER_IMAGE */
  image: string;
  /** REGION: volumes are made here, and each machine where its volume is. Unset: Fly picks the region. */
  region?: string;
  /** THOPTER_VM_SIZE: a Fly preset, optionally `:MEMORY_MB`. */
  vmSize: string;
  log: Logger;
  volumeSizeGb?: number;
  /** Where the thopter's volume is mounted; default /data. */
  volumePath?: string;
  /** The unprivileged user in the image that gets the spec's `thopter` files; default thopter. */
  agentUser?: string;
  /** How long a new machine may take to reach `started` (1–60 s, Fly's wait limit); default 60. */
  startTimeoutSeconds?: number;
  /** How long a stopping machine gets for its SIGTERM before it is destroyed by force (1–60 s); default 30. */
  stopTimeoutSeconds?: number;
}

const DEAD_VOLUME_STATES = new Set(["destroying", "destroyed", "pending_destroy"]);

const isNotFound = (err: unknown) => err instanceof FlyApiError && err.status === 404;

/**
 * Thopters as Fly machines, one fresh volume each. The happy path is four calls: find a volume left by an interrupted
 * create (list), create the volume, create the machine (named after the thopter, so a retry cannot make a second),
 * wait until it started. Whatever fails after the volume exists is undone before the error reaches the caller.
 * A thopter whose profile is a golden claude gets a fork of its newest snapshot as its volume, found in that same
 * list (see snapshotFor): its home is the golden claude's.
 */
export class FlyProvider implements Provider {
  readonly kind = "fly";
  /** Secrets are root-only machine files; the agent runs as the image's unprivileged user. */
  readonly isolation = "full";
  private readonly client: FlyMachinesClient;
  private readonly settings: FlyMachineSettings;
  private readonly log: Logger;

  constructor(private readonly options: FlyProviderOptions) {
    if (!options.image)
      throw new Error("THOPTER_IMAGE is empty: set it to the thopter image (registry.fly.io/APP:TAG)");
    this.client = options.client;
    this.log = options.log;
    this.settings = {
      image: options.image,
      region: options.region,
      guest: guestFor(options.vmSize),
      volumePath: options.volumePath ?? "/data",
      agentUser: options.agentUser ?? "thopter",
    };
  }

  async create(input: ThopterSpec, owner: MachineOwner): Promise<MachineRef> {
    const spec = parseSpec(input);
    checkThopterId(spec, owner);
    const thopterId = owner.thopterId;
    let placed = await this.place(spec, owner);
    if (["stopping", "stopped", "gone"].includes(machineState(placed.machine.state))) {
      // An earlier attempt's machine that has since ended: a retry starts from nothing, as with the local provider.
      this.log.warn(
        { thopterId, machineId: placed.ref.id, state: placed.machine.state },
        "replacing a stopped machine",
      );
      await this.destroy(placed.ref);
      placed = await this.place(spec, owner);
    }
    const { ref } = placed;
    const timeout = this.options.startTimeoutSeconds ?? 60;
    try {
      await this.client.waitForState(ref.id, "started", timeout);
    } catch (err) {
      await this.destroy(ref).catch((cleanup) =>
        this.log.error({ thopterId, err: cleanup }, "could not clean up a machine that failed to start"),
      );
      const reason = isWaitTimeout(err) ? `did not reach "started" within ${timeout} s` : (err as Error).message;
      throw new Error(`Fly machine for thopter ${thopterId} ${reason}; it and its volume were destroyed`);
    }
    this.log.info({ thopterId, machineId: ref.id, volumeId: ref.volumeId }, "fly machine started");
    return ref;
  }

  /**
   * The thopter's volume and machine, made now or found where an earlier attempt left them: never a second of
   * either. A volume made here is deleted again if no machine ends up holding it.
   */
  private async place(spec: ThopterSpec, owner: MachineOwner): Promise<{ machine: Machine; ref: MachineRef }> {
    const thopterId = owner.thopterId;
    const { volume, made } = await this.volumeFor(spec, thopterId);
    let machine: Machine;
    if (volume.attached_machine_id) {
      // An earlier attempt got as far as the machine: carry on with that one.
      machine = await this.client.getMachine(volume.attached_machine_id);
      if (machine.name !== thopterId) {
        throw new Error(
          `volume ${volume.id} of thopter ${thopterId} is held by machine ${machine.id} (${machine.name})`,
        );
      }
    } else {
      try {
        machine = await this.client.createMachine(machineRequest(spec, owner, volume, this.settings));
      } catch (err) {
        await this.deleteVolume(volume.id!); // nothing holds it: made now, or left by an interrupted create
        throw new Error(`Fly could not create the machine for thopter ${thopterId}: ${(err as Error).message}`);
      }
    }
    // A create whose machine already existed (name taken) gets that machine, which mounts its own volume.
    const volumeId = machine.config?.mounts?.[0]?.volume ?? volume.id!;
    if (made && volumeId !== volume.id) await this.deleteVolume(volume.id!);
    return { machine, ref: { provider: "fly", id: machine.id!, volumeId, address: this.addressOf(machine) } };
  }

  /**
   * The thopter's volume: the one an interrupted create already made, or a new one: a fork of the golden claude's
   * snapshot when the spec's profile is one, else an empty one.
   */
  private async volumeFor(spec: ThopterSpec, thopterId: string): Promise<{ volume: Volume; made: boolean }> {
    const name = volumeName(thopterId);
    const volumes = (await this.client.listVolumes()).filter((v) => !DEAD_VOLUME_STATES.has(v.state ?? ""));
    const existing = volumes.find((v) => v.name === name);
    if (existing) return { volume: existing, made: false };
    const snapshot = snapshotFor(profileOf(spec), volumes);
    const volume = await this.client.createVolume({
      name,
      ...(this.settings.region ? { region: this.settings.region } : {}),
      // A fork has its source's size and encryption.
      ...(snapshot ? { source_volume_id: snapshot.id } : { size_gb: this.options.volumeSizeGb ?? 10, encrypted: true }),
      // Thopter volumes are scratch space destroyed with their machine: snapshots would only outlive them.
      auto_backup_enabled: false,
    });
    if (snapshot)
      this.log.info({ thopterId, snapshot: snapshot.id, volumeId: volume.id }, "volume forked from a golden claude");
    return { volume, made: true };
  }

  /**
   * Stops the machine gracefully (its broker gets SIGTERM and time to flush), destroys it, waits until it is destroyed
   * (a volume can only be deleted once no machine holds it), then deletes its volume.
   */
  async destroy(ref: MachineRef): Promise<void> {
    if (ref.provider !== "fly") throw new Error(`not a Fly machine: ${JSON.stringify(ref)}`);
    try {
      await this.stop(ref.id);
      await this.client.destroyMachine(ref.id, { force: true });
      await this.client.waitForState(ref.id, "destroyed", this.options.stopTimeoutSeconds ?? 30);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (ref.volumeId) await this.deleteVolume(ref.volumeId);
    this.log.info({ machineId: ref.id, volumeId: ref.volumeId }, "fly machine and volume destroyed");
  }

  /** SIGTERM and a bounded wait; a machine still running after it, or already on its way out, is destroyed anyway. */
  private async stop(machineId: string): Promise<void> {
    try {
      await this.client.stopMachine(machineId);
      await this.client.waitForState(machineId, "stopped", this.options.stopTimeoutSeconds ?? 30);
    } catch (err) {
      // 408: still running after the wait; 412: Fly refuses to stop a machine that is destroying or destroyed.
      if (!(err instanceof FlyApiError && (err.status === 408 || err.status === 412))) throw err;
    }
  }

  private async deleteVolume(volumeId: string): Promise<void> {
    try {
      await this.client.deleteVolume(volumeId);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async list(): Promise<MachineInfo[]> {
    const machines = await this.client.listMachines({ metadata: { thopter: "1" } });
    return machines.flatMap((m) => {
      const info = this.infoOf(m);
      return info && info.state !== "gone" ? [info] : [];
    });
  }

  async status(ref: MachineRef): Promise<MachineState> {
    try {
      return machineState((await this.client.getMachine(ref.id)).state);
    } catch (err) {
      if (isNotFound(err)) return "gone";
      throw err;
    }
  }

  /** The machine's 6PN address, or before Fly reports one, the private DNS name that resolves to it. */
  private addressOf(machine: Machine): string {
    return machine.private_ip ?? `${machine.id}.vm.${this.client.app}.internal`;
  }

  /**
   * Deletes thopter volumes that no machine holds and that are older than `olderThanMs` (default 10 minutes): what a
   * hub that died between creating a volume and creating its machine leaves, when that create is never retried.
   * The age keeps it off volumes whose create is under way right now. Returns the deleted volumes' ids.
   */
  async removeLeftovers(olderThanMs = 10 * 60_000): Promise<string[]> {
    const cutoff = Date.now() - olderThanMs;
    const orphans = (await this.client.listVolumes()).filter(
      (v) =>
        VOLUME_NAME.test(v.name ?? "") &&
        !v.attached_machine_id &&
        !DEAD_VOLUME_STATES.has(v.state ?? "") &&
        Date.parse(v.created_at ?? "") < cutoff,
    );
    for (const volume of orphans) await this.deleteVolume(volume.id!);
    if (orphans.length > 0) this.log.warn({ volumes: orphans.map((v) => v.id) }, "deleted orphaned thopter volumes");
    return orphans.map((v) => v.id!);
  }

  private infoOf(machine: Machine): MachineInfo | undefined {
    const meta = machine.config?.metadata ?? {};
    const issueNumber = Number(meta.issue);
    if (!meta.thopter_id || !meta.repo || !Number.isInteger(issueNumber)) {
      this.log.warn({ machineId: machine.id }, "machine marked thopter=1 lacks thopter_id, repo or issue: ignored");
      return undefined;
    }
    return {
      ref: {
        provider: "fly",
        id: machine.id!,
        volumeId: machine.config?.mounts?.[0]?.volume,
        address: this.addressOf(machine),
      },
      thopterId: meta.thopter_id,
      repo: meta.repo,
      issueNumber,
      state: machineState(machine.state),
      detail: machine.state ?? "unknown",
      createdAt: machine.created_at ?? "",
    };
  }
}
