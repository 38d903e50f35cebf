import { spawn } from "node:child_process";
import { access } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { fsRootOf, markerOf } from "./launch.js";
import { type LocalMachineRecord, leaderOf, readRecord } from "./machine-record.js";
import { machineProcesses, processesOfUid } from "./processes.js";
import { deleteThopterUser } from "./user-accounts.js";

const POLL_MS = 50;
/** After SIGKILL the kernel needs only moments; longer means a process we cannot signal (another user's). */
const KILL_WAIT_MS = 5_000;

type Agent = NonNullable<LocalMachineRecord["agent"]>;

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // exited meanwhile
    }
  }
}

/** Runs `command` to its end, as `agent` when given, from `/` (every user may enter it); resolves with stderr and exit code. */
function runAs(command: string, args: string[], agent?: Agent): Promise<{ code: number | null; stderr: string }> {
  const ids = agent ? { uid: agent.uid, gid: agent.gid } : {};
  const child = spawn(command, args, {
    ...ids,
    cwd: "/",
    env: { PATH: "/usr/bin:/bin" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-2_000);
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stderr: stderr.trim() }));
  });
}

/**
 * `kill -1` as the agent's uid: the kernel signals every process of that uid (but the kill itself) in one step
 * that a fork cannot slip through, however many the agent started or detached.
 */
async function signalAgent(agent: Agent | undefined, sig: NodeJS.Signals): Promise<void> {
  // A uid at its process limit cannot start the kill: the pids found are then signalled one by one.
  if (agent) await runAs("kill", [`-${sig.replace(/^SIG/, "")}`, "--", "-1"], agent).catch(() => undefined);
}

/** Waits until the machine has no process left, re-signalling newcomers; true if it got there within `ms`. */
async function drain(
  find: () => Promise<number[]>,
  sig: NodeJS.Signals | undefined,
  ms: number,
  agent?: Agent,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const pids = await find();
    if (pids.length === 0) return true;
    if (Date.now() >= deadline) return false;
    if (sig !== undefined) {
      await signalAgent(agent, sig);
      signal(pids, sig);
    }
    await sleep(POLL_MS);
  }
}

/**
 * Stops every process of the machine in `dir`: SIGTERM, then SIGKILL to whatever is left after `graceMs`.
 * Covers the whole process group, processes that left it but carry the machine's marker, and every process of the
 * machine's own agent uid (see machineProcesses).
 */
export async function stopLocalMachine(dir: string, graceMs: number): Promise<void> {
  if (!(await exists(dir))) return;
  // An unreadable record still leaves the marker to find the machine's processes by.
  const record = await readRecord(dir).catch(() => undefined);
  const leader = await leaderOf(record);
  const agent = record?.agent;
  const find = () => machineProcesses(leader, markerOf(dir), agent?.uid);
  await signalAgent(agent, "SIGTERM");
  signal(await find(), "SIGTERM");
  if (await drain(find, undefined, graceMs)) return;
  if (await drain(find, "SIGKILL", KILL_WAIT_MS, agent)) return;
  throw new Error(
    `machine ${dir} still has processes ${(await find()).join(", ")} after SIGKILL: are they another user's?`,
  );
}

/** Kills every process of a thopter user whose machine is gone (a leftover of an interrupted create or remove). */
export async function killAgentProcesses(agent: Agent): Promise<void> {
  const find = () => processesOfUid(agent.uid);
  if (await drain(find, "SIGKILL", KILL_WAIT_MS, agent)) return;
  throw new Error(`user ${agent.name} still has processes ${(await find()).join(", ")} after SIGKILL`);
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** GNU rm's walk never follows a link and checks each folder it enters is the one it listed (openat, no chdir). */
const rmArgs = (path: string) => ["-rf", "--one-file-system", "--", path];

/**
 * Stops the machine, then deletes its directory (files, console log, record), then its agent user. With every process
 * dead nothing can swap a folder for a link mid-walk; even so, the agent's part goes first as the agent (it can delete
 * nothing the agent could not), and root's walk of the rest follows no link.
 */
export async function removeLocalMachine(dir: string, graceMs: number): Promise<void> {
  await stopLocalMachine(dir, graceMs);
  const agent = (await readRecord(dir).catch(() => undefined))?.agent;
  // As the agent, what root left (its own files, secrets) stays: rm's complaints about them are expected.
  if (agent) await runAs("rm", rmArgs(fsRootOf(dir)), agent).catch(() => undefined);
  const root = await runAs("rm", rmArgs(dir));
  if (root.code !== 0) throw new Error(`could not remove ${dir}: ${root.stderr}`);
  if (agent) await deleteThopterUser(agent.name);
}
