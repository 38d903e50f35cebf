import { join } from "node:path";
import type { MachineConfig } from "@thopter/fly";
import { fsRootOf, inspectLocalMachine, launchLocalMachine } from "@thopter/hub/providers/local/launch";
import { removeLocalMachine, stopLocalMachine } from "@thopter/hub/providers/local/stop";
import { PeerError } from "./peer-error.js";
import type { Mount, VolumeDirs } from "./volume-dirs.js";

/** How the peer runs started machines as local processes (the hub's local-provider convention). */
export interface RunOptions {
  /** Each machine gets `<root>/<machine id>/` with `root/` (its files), `console.log` and `machine.json`. */
  root: string;
  /** The image's default command, for machines whose config has no `init.exec`/`entrypoint`/`cmd`. */
  defaultCommand?: string[];
  /** How long a stopped machine's processes get after SIGTERM before SIGKILL (Fly's default kill timeout: 5 s). */
  stopGraceMs?: number;
}

/** The command a machine runs: `init.exec`, else `init.entrypoint` + `init.cmd`, else the image's default. */
export function commandOf(config: MachineConfig, run: RunOptions): string[] {
  const init = config.init ?? {};
  if (init.exec?.length) return init.exec;
  const command = [...(init.entrypoint ?? []), ...(init.cmd ?? [])];
  if (command.length) return command;
  if (run.defaultCommand?.length) return run.defaultCommand;
  throw new PeerError(
    400,
    "the Fly peer ignores images: give config.init.cmd or init.exec, or a defaultCommand to the peer",
  );
}

/** Refuses, at create time, a machine the peer could not run: nothing to run, or files it cannot deliver. */
export function checkRunnable(config: MachineConfig, run: RunOptions): void {
  commandOf(config, run);
  for (const file of config.files ?? []) {
    if (!file.guest_path?.startsWith("/")) throw new PeerError(400, "files[].guest_path must be an absolute path");
    if (file.raw_value === undefined) {
      throw new PeerError(400, `file ${file.guest_path}: the Fly peer has no app secrets; send raw_value (base64)`);
    }
  }
}

/** One machine running as a local process group; `exited` fires once when it stops by itself. */
export class MachineProcess {
  private watch: NodeJS.Timeout | undefined;

  private constructor(
    readonly dir: string,
    private readonly graceMs: number,
    private readonly mounts: readonly Mount[],
    private readonly volumes: VolumeDirs | undefined,
  ) {}

  static async start(
    machineId: string,
    config: MachineConfig,
    env: Record<string, string>,
    run: RunOptions,
    exited: () => void,
    volumes?: VolumeDirs,
  ): Promise<MachineProcess> {
    const dir = join(run.root, machineId);
    await launchLocalMachine({
      dir,
      env: { ...config.env, ...env },
      files: (config.files ?? []).map((file) => ({
        path: file.guest_path ?? "",
        contentBase64: file.raw_value ?? "",
        mode: file.mode ?? 0o644,
      })),
      cmd: volumes?.mountedCommand(config.mounts ?? [], commandOf(config, run)) ?? commandOf(config, run),
      meta: { machineId },
    });
    const machine = new MachineProcess(dir, run.stopGraceMs ?? 5_000, config.mounts ?? [], volumes);
    machine.watchExit(exited);
    return machine;
  }

  /** SIGTERM to the whole group, SIGKILL after the grace period (or at once with `graceMs` 0); its volumes keep their data. */
  async stop(graceMs = this.graceMs): Promise<void> {
    this.unwatch();
    await stopLocalMachine(this.dir, graceMs);
    await this.volumes?.unmount(this.mounts, fsRootOf(this.dir));
  }

  /** Kills it and deletes its directory, as destroying a Fly machine discards its root filesystem (not its volumes). */
  async remove(graceMs = this.graceMs): Promise<void> {
    await this.stop(graceMs);
    await removeLocalMachine(this.dir, 0);
  }

  private watchExit(exited: () => void): void {
    // The launcher detaches the process; /proc tells when it is gone.
    this.watch = setInterval(async () => {
      const status = await inspectLocalMachine(this.dir).catch(() => undefined);
      if (this.watch && status?.state === "stopped") {
        this.unwatch();
        exited();
      }
    }, 100);
  }

  private unwatch(): void {
    clearInterval(this.watch);
    this.watch = undefined;
  }
}
