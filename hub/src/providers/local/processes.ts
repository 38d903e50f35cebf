import { readdir, readFile } from "node:fs/promises";

/** What /proc/<pid>/stat says about one process that matters here. */
export interface ProcStat {
  pid: number;
  state: string;
  pgid: number;
  /** Clock ticks after boot: with the pid, identifies a process across pid reuse. */
  startTime: number;
}

/** Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so fields count from the last `)`. */
export async function readStat(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { pid, state: fields[0] ?? "", pgid: Number(fields[2]), startTime: Number(fields[19]) };
}

let cachedBootId: string | undefined;

/** This boot of the kernel: a pid and start time recorded during an earlier boot say nothing about today's processes. */
export async function bootId(): Promise<string> {
  cachedBootId ??= (await readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim();
  return cachedBootId;
}

/** True while the process that was started as (pid, startTime) still runs: not exited, not a zombie, not a reused pid. */
export async function isSameProcessAlive(pid: number, startTime: number): Promise<boolean> {
  const stat = await readStat(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== "Z";
}

async function hasEnvEntry(pid: number, entry: string): Promise<boolean> {
  try {
    return (await readFile(`/proc/${pid}/environ`)).toString("utf8").split("\0").includes(entry);
  } catch {
    return false; // gone, or another user's process we could not signal anyway
  }
}

/** The real, effective, saved and filesystem uids of a process (/proc/<pid>/status), or undefined once it is gone. */
export async function uidsOf(pid: number): Promise<number[] | undefined> {
  try {
    const line = (await readFile(`/proc/${pid}/status`, "utf8")).split("\n").find((l) => l.startsWith("Uid:"));
    return line?.split(/\s+/).slice(1).map(Number);
  } catch {
    return undefined;
  }
}

/** Pids of /proc, this process excluded. */
async function allPids(): Promise<number[]> {
  const names = await readdir("/proc");
  return names.filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid).map(Number);
}

/** Live processes that hold `uid` as any of their uids: what an agent cannot shed (only root could change them). */
export async function processesOfUid(uid: number): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await allPids()) {
    const stat = await readStat(pid);
    if (stat !== undefined && stat.state !== "Z" && (await uidsOf(pid))?.includes(uid)) found.push(pid);
  }
  return found;
}

/** Every uid some live process holds: a uid is not free for a new user while a process still runs with it. */
export async function uidsInUse(): Promise<Set<number>> {
  const used = new Set<number>();
  for (const pid of await allPids()) for (const uid of (await uidsOf(pid)) ?? []) used.add(uid);
  return used;
}

/**
 * The live processes of one local machine: its process group (unless the group's leader pid now belongs to someone
 * else), any process that carries the machine's marker in its environment, which catches daemons such as a tmux
 * server that left the group with setsid(), and, when the machine has its own agent uid, every process of that uid
 * (the agent can leave the group and drop the marker, but not its uid).
 */
export async function machineProcesses(
  leader: { pgid: number; startTime: number } | undefined,
  marker: string,
  agentUid?: number,
): Promise<number[]> {
  const leaderNow = leader && (await readStat(leader.pgid));
  const groupIsOurs = leader !== undefined && (leaderNow === undefined || leaderNow.startTime === leader.startTime);
  const found: number[] = [];
  for (const pid of await allPids()) {
    const stat = await readStat(pid);
    if (stat === undefined || stat.state === "Z") continue;
    const inGroup = groupIsOurs && stat.pgid === leader.pgid && stat.startTime >= leader.startTime;
    const ofAgent = agentUid !== undefined && (await uidsOf(pid))?.includes(agentUid);
    if (inGroup || ofAgent || (await hasEnvEntry(pid, marker))) found.push(pid);
  }
  return found;
}
