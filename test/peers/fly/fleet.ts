import { randomBytes } from "node:crypto";
import type { CreateMachineRequest, Machine } from "@thopter/fly";
import { EngineVolumes, engineLeftovers } from "./engine-volumes.js";
import { type ContainerOptions, checkContainerRunnable, MachineContainer } from "./machine-container.js";
import { checkRunnable, MachineProcess, type RunOptions } from "./machine-runner.js";
import { PeerError } from "./peer-error.js";
import { VolumeDirs } from "./volume-dirs.js";
import { Volumes } from "./volumes.js";

export type { ContainerOptions } from "./machine-container.js";
export type { RunOptions } from "./machine-runner.js";

export interface FleetOptions {
  app: string;
  region: string;
  /** Time each automatic step takes (created → starting → started, stopping → stopped, destroying → destroyed). */
  transitionMs: number;
  /** The address started machines get (`private_ip`), where the hub reaches their services. */
  privateIp: string;
  /** When set, started machines run as local processes; otherwise they only change state. */
  run?: RunOptions;
  /** When set (instead of `run`), started machines run as containers of their image. */
  containers?: ContainerOptions & { peerId: string };
}

interface Entry {
  machine: Machine;
  /** The next automatic transition; any explicit one (stop, destroy) cancels it. */
  timer?: NodeJS.Timeout;
  process?: MachineProcess | MachineContainer;
}

interface Waiter {
  machineId: string;
  states: string[];
  done: (reached: boolean) => void;
}

const RUNNING = new Set(["starting", "started"]);

function hex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

/** The machines (and, in `volumes`, the volumes) of one Fly app, with Fly's state transitions driven by timers. */
export class Fleet {
  private readonly machines = new Map<string, Entry>();
  private readonly waiters = new Set<Waiter>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  readonly volumes: Volumes;
  /** The volumes' directories, when machines run as local processes. */
  readonly volumeDirs: VolumeDirs | undefined;
  private readonly engineVolumes: EngineVolumes | undefined;

  constructor(private readonly options: FleetOptions) {
    const { run, containers } = options;
    if (run && containers) throw new Error("the Fly peer runs machines as processes (`run`) or containers, not both");
    this.volumeDirs = run && new VolumeDirs(run.root);
    this.engineVolumes = containers && new EngineVolumes(containers.docker, containers.peerId);
    this.volumes = new Volumes(options.region, this.volumeDirs ?? this.engineVolumes);
  }

  createMachine(request: CreateMachineRequest): Machine {
    const config = request.config ?? {};
    if (request.name && this.listMachines(false).some((m) => m.name === request.name)) {
      throw new PeerError(409, `a machine named ${request.name} already exists in app ${this.options.app}`);
    }
    if (this.options.run) checkRunnable(config, this.options.run);
    if (this.options.containers) checkContainerRunnable(config);
    for (const mount of config.mounts ?? []) {
      const volume = mount.volume ? this.volumes.find(mount.volume) : undefined;
      if (!volume) throw new PeerError(400, `mount ${mount.path}: volume ${mount.volume} not found`);
      if (volume.attached_machine_id) {
        throw new PeerError(400, `volume ${volume.id} is already attached to machine ${volume.attached_machine_id}`);
      }
    }
    const now = new Date().toISOString();
    const id = hex(7);
    const machine: Machine = {
      id,
      name: request.name || `machine-${hex(4)}`,
      state: "created",
      region: request.region ?? this.options.region,
      instance_id: hex(13).toUpperCase(),
      config,
      host_status: "ok",
      created_at: now,
      updated_at: now,
      events: [],
    };
    const entry: Entry = { machine };
    this.machines.set(id, entry);
    for (const mount of config.mounts ?? []) {
      const volume = this.volumes.find(mount.volume ?? "");
      if (volume) volume.attached_machine_id = id;
    }
    this.event(entry, "launch", "created");
    if (!request.skip_launch) this.after(entry, () => this.boot(entry));
    return machine;
  }

  getMachine(machineId: string): Machine {
    return this.entry(machineId).machine;
  }

  listMachines(includeDeleted: boolean): Machine[] {
    return [...this.machines.values()]
      .map((entry) => entry.machine)
      .filter((machine) => includeDeleted || !["destroying", "destroyed"].includes(machine.state ?? ""));
  }

  /** Resolves true once the machine is in one of `states`, false after `timeoutMs`. */
  wait(machineId: string, states: string[], timeoutMs: number): Promise<boolean> {
    const { machine } = this.entry(machineId);
    if (states.includes(machine.state ?? "")) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        machineId,
        states,
        done: (reached) => {
          clearTimeout(timer);
          this.timers.delete(timer);
          this.waiters.delete(waiter);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.done(false), timeoutMs);
      this.timers.add(timer);
      this.waiters.add(waiter);
    });
  }

  /** Stops a machine; its processes get `graceMs` after SIGTERM. Stopping a stopped machine is a no-op. */
  async stopMachine(machineId: string, graceMs?: number): Promise<void> {
    const entry = this.entry(machineId);
    const state = entry.machine.state ?? "";
    if (state === "destroying" || state === "destroyed") {
      throw new PeerError(412, `failed_precondition: machine ${machineId} is ${state}`);
    }
    if (!RUNNING.has(state) && state !== "created") return;
    this.setState(entry, "stopping");
    await this.stopProcess(entry, graceMs);
    this.after(entry, () => this.setState(entry, "stopped"));
  }

  async destroyMachine(machineId: string, force: boolean): Promise<void> {
    const entry = this.entry(machineId);
    const state = entry.machine.state ?? "";
    if (state === "destroying" || state === "destroyed") return;
    if (RUNNING.has(state) && !force) {
      throw new PeerError(
        412,
        `failed_precondition: machine ${machineId} is ${state}: stop it first or pass force=true`,
      );
    }
    this.setState(entry, "destroying");
    await entry.process?.remove(0);
    entry.process = undefined;
    this.volumes.detachFrom(machineId);
    this.after(entry, () => this.setState(entry, "destroyed"));
  }

  metadata(machineId: string): Record<string, string> {
    const { machine } = this.entry(machineId);
    machine.config ??= {};
    machine.config.metadata ??= {};
    return machine.config.metadata;
  }

  /** Cancels every timer and kills every machine process. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const waiter of this.waiters) waiter.done(false);
    await Promise.all([...this.machines.values()].map((entry) => entry.process?.remove(0)));
    // Local volume directories go with the run's root; the engine's named volumes must be removed one by one.
    for (const volume of this.engineVolumes ? this.volumes.list() : []) await this.engineVolumes!.remove(volume.id!);
  }

  /** What a machine's container printed so far (with `containers`). */
  async console(machineId: string): Promise<string> {
    const { process } = this.entry(machineId);
    return process instanceof MachineContainer ? process.console() : "";
  }

  /** With `containers`: this peer's containers and volumes still on the engine. */
  leftovers(): Promise<string[]> {
    const { containers } = this.options;
    return containers ? engineLeftovers(containers.docker, containers.peerId) : Promise.resolve([]);
  }

  private async boot(entry: Entry): Promise<void> {
    this.setState(entry, "starting");
    const { machine } = entry;
    if (this.options.run || this.options.containers) {
      try {
        entry.process = await this.launch(entry, () => void this.exited(entry));
      } catch (error) {
        this.event(entry, "launch", `failed: ${error instanceof Error ? error.message : String(error)}`);
        if (machine.state === "starting") this.setState(entry, "failed");
        return;
      }
      if (this.closed || machine.state !== "starting") {
        // Stopped, destroyed or shut down while its process was being launched.
        await entry.process.remove(0);
        entry.process = undefined;
        return;
      }
    }
    const address = entry.process instanceof MachineContainer ? entry.process.privateIp : undefined;
    this.after(entry, () => {
      machine.private_ip = address ?? this.options.privateIp;
      this.setState(entry, "started");
    });
  }

  /** The machine's process (`run`) or container (`containers`), started with Fly's machine variables. */
  private launch(entry: Entry, exited: () => void): Promise<MachineProcess | MachineContainer> {
    const { machine } = entry;
    const env = {
      FLY_APP_NAME: this.options.app,
      FLY_MACHINE_ID: machine.id!,
      FLY_MACHINE_VERSION: machine.instance_id!,
      FLY_REGION: machine.region!,
      FLY_IMAGE_REF: machine.config?.image ?? "",
    };
    const { containers, run } = this.options;
    if (containers) {
      return MachineContainer.start(machine.id!, machine.config ?? {}, env, containers, exited, this.engineVolumes!);
    }
    const withIp = { ...env, FLY_PRIVATE_IP: this.options.privateIp };
    return MachineProcess.start(machine.id!, machine.config ?? {}, withIp, run!, exited, this.volumeDirs);
  }

  /** The main process ended by itself: like Fly with restart policy `no`, the machine stops (and its leftovers die). */
  private async exited(entry: Entry): Promise<void> {
    if (!RUNNING.has(entry.machine.state ?? "")) return;
    this.event(entry, "exit", "stopping");
    this.setState(entry, "stopping");
    await this.stopProcess(entry, 0);
    this.after(entry, () => this.setState(entry, "stopped"));
  }

  /** A stopped machine keeps its root filesystem until destroyed: a container stays (stopped), a process is gone. */
  private async stopProcess(entry: Entry, graceMs: number | undefined): Promise<void> {
    await entry.process?.stop(graceMs);
    if (!(entry.process instanceof MachineContainer)) entry.process = undefined;
  }

  private entry(machineId: string): Entry {
    const entry = this.machines.get(machineId);
    if (!entry) throw new PeerError(404, `machine ${machineId} not found`);
    return entry;
  }

  private setState(entry: Entry, state: string): void {
    clearTimeout(entry.timer);
    entry.machine.state = state;
    entry.machine.updated_at = new Date().toISOString();
    if (state !== "started") delete entry.machine.private_ip;
    this.event(entry, "state", state);
    for (const waiter of this.waiters) {
      if (waiter.machineId === entry.machine.id && waiter.states.includes(state)) waiter.done(true);
    }
  }

  private after(entry: Entry, step: () => void | Promise<void>): void {
    clearTimeout(entry.timer);
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void step();
    }, this.options.transitionMs);
    entry.timer = timer;
    this.timers.add(timer);
  }

  private event(entry: Entry, type: string, status: string): void {
    entry.machine.events ??= [];
    entry.machine.events.unshift({
      id: hex(13).toUpperCase(),
      type,
      status,
      source: "flyd",
      timestamp: Date.now(),
    });
  }
}
