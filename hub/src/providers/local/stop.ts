import { access, rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { markerOf } from "./launch.js";
import { leaderOf, readRecord } from "./machine-record.js";
import { machineProcesses } from "./processes.js";

const POLL_MS = 50;
/** After SIGKILL the kernel needs only moments; longer means a process we cannot signal (another user's). */
const KILL_WAIT_MS = 5_000;

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // exited meanwhile
    }
  }
}

/** Waits until the machine has no process left, re-signalling newcomers; true if it got there within `ms`. */
async function drain(find: () => Promise<number[]>, sig: NodeJS.Signals | undefined, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const pids = await find();
    if (pids.length === 0) return true;
    if (Date.now() >= deadline) return false;
    if (sig !== undefined) signal(pids, sig);
    await sleep(POLL_MS);
  }
}

/**
 * Stops every process of the machine in `dir`: SIGTERM, then SIGKILL to whatever is left after `graceMs`.
 * Covers the whole process group and processes that left it but carry the machine's marker (see machineProcesses).
 */
export async function stopLocalMachine(dir: string, graceMs: number): Promise<void> {
  if (!(await exists(dir))) return;
  // An unreadable record still leaves the marker to find the machine's processes by.
  const leader = await leaderOf(await readRecord(dir).catch(() => undefined));
  const find = () => machineProcesses(leader, markerOf(dir));
  signal(await find(), "SIGTERM");
  if (await drain(find, undefined, graceMs)) return;
  if (await drain(find, "SIGKILL", KILL_WAIT_MS)) return;
  throw new Error(
    `machine ${dir} still has processes ${(await find()).join(", ")} after SIGKILL: are they another user's?`,
  );
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** Stops the machine and deletes its directory: files, console log and record. */
export async function removeLocalMachine(dir: string, graceMs: number): Promise<void> {
  await stopLocalMachine(dir, graceMs);
  await rm(dir, { recursive: true, force: true });
}
