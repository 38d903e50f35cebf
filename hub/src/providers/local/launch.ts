import { spawn } from "node:child_process";
import { chmod, chown, mkdir, open } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type LaunchFile, writeFiles } from "./files.js";
import { type LocalMachineRecord, leaderOf, readRecord, writeRecord } from "./machine-record.js";
import { bootId, isSameProcessAlive, readStat } from "./processes.js";

export type { LaunchFile } from "./files.js";

export interface LaunchOptions {
  /** The machine's directory (its "volume"); must not exist yet. Files go under `<dir>/root`, output to `<dir>/console.log`. */
  dir: string;
  /** The machine's environment. Of the launcher's own environment only PATH and HOME pass through, so its tokens stay out. */
  env: Record<string, string>;
  files: readonly LaunchFile[];
  /** The entrypoint, run in its own process group with `<dir>/root` as working directory. */
  cmd: readonly string[];
  /** Stored in machine.json, to find the machine by later. */
  meta: Record<string, string>;
  /** The machine's own agent user: `<dir>/root` is then closed to everyone but root and the agent's group. */
  agent?: LocalMachineRecord["agent"];
}

/** The machine's view of `/`: its files live under it, and every process of the machine carries it in its env. */
export function fsRootOf(dir: string): string {
  return join(dir, "root");
}

/** The env entry that marks a process as belonging to the machine in `dir`, even after it left the process group. */
export function markerOf(dir: string): string {
  return `THOPTER_FS_ROOT=${fsRootOf(dir)}`;
}

/**
 * Starts one local machine: the convention shared by the hub's local provider and the Fly peer. Writes
 * `<dir>/machine.json` first (so an interrupted launch is still found and can be removed), the files under
 * `<dir>/root`, then spawns `cmd` detached (own process group) with `THOPTER_FS_ROOT=<dir>/root`, stdout and stderr
 * appended to `<dir>/console.log`. Resolves once the process exists; rejects if it could not be started.
 */
export async function launchLocalMachine(options: LaunchOptions): Promise<LocalMachineRecord> {
  const { dir, cmd } = options;
  const [command, ...args] = cmd;
  if (command === undefined) throw new Error("launch needs a command: cmd is empty");
  await mkdir(dirname(dir), { recursive: true, mode: 0o711 });
  await mkdir(dir, { mode: 0o711 }).catch((err: NodeJS.ErrnoException) => {
    throw err.code === "EEXIST" ? new Error(`machine directory ${dir} already exists: remove it first`) : err;
  });
  const created: LocalMachineRecord = { meta: options.meta, createdAt: new Date().toISOString(), agent: options.agent };
  await writeRecord(dir, created);
  const fsRoot = fsRootOf(dir);
  await mkdir(fsRoot, { mode: 0o755 });
  if (options.agent) {
    // Other thopters' agents must not even look in: no path below is theirs to read.
    await chown(fsRoot, 0, options.agent.gid);
    await chmod(fsRoot, 0o750);
  }
  await writeFiles(fsRoot, options.files);

  const env: Record<string, string> = { ...inheritedEnv(), ...options.env, THOPTER_FS_ROOT: fsRoot };
  const output = await open(join(dir, "console.log"), "a", 0o600);
  try {
    const child = spawn(command, args, { cwd: fsRoot, env, detached: true, stdio: ["ignore", output.fd, output.fd] });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (err) => reject(new Error(`entrypoint ${command} did not start: ${err.message}`)));
    });
    child.unref();
    const pid = child.pid!;
    // An entrypoint that already exited leaves no start time: -1 never matches a live process.
    const startTime = (await readStat(pid))?.startTime ?? -1;
    const started: LocalMachineRecord = {
      ...created,
      process: {
        pid,
        pgid: pid,
        startTime,
        bootId: await bootId(),
        startedAt: new Date().toISOString(),
        cmd: [...cmd],
      },
    };
    await writeRecord(dir, started);
    return started;
  } finally {
    await output.close();
  }
}

function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin" };
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME;
  return env;
}

/** What a local machine is doing now: `starting` before its process was spawned, then `running` or `stopped`. */
export interface LocalMachineStatus {
  record: LocalMachineRecord;
  state: "starting" | "running" | "stopped";
}

/** The machine in `dir` and its state, or undefined if there is none. */
export async function inspectLocalMachine(dir: string): Promise<LocalMachineStatus | undefined> {
  const record = await readRecord(dir);
  if (record === undefined) return undefined;
  if (record.process === undefined) return { record, state: "starting" };
  const leader = await leaderOf(record);
  const alive = leader !== undefined && (await isSameProcessAlive(leader.pid, leader.startTime));
  return { record, state: alive ? "running" : "stopped" };
}
