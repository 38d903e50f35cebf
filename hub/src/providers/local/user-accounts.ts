import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { uidsInUse } from "./processes.js";
import { formatRange, type UidRange } from "./uid-range.js";

const run = promisify(execFile);

/** A local thopter's own user and group (gid = uid). */
export interface ThopterUser {
  name: string;
  uid: number;
  gid: number;
}

/** One line of `getent passwd`. */
export interface Account {
  name: string;
  uid: number;
  home: string;
}

/** `thopter-<id>`; an id that would not fit useradd's 32 characters, or has dots, gets a hash (after `_`, never in an id). */
export function userNameFor(thopterId: string): string {
  if (/^[a-z0-9][a-z0-9-]{0,23}$/.test(thopterId)) return `thopter-${thopterId}`;
  return `thopter_${createHash("sha256").update(thopterId).digest("hex").slice(0, 16)}`;
}

/** Whether `name` is one userNameFor could have made. */
export const isThopterUserName = (name: string): boolean => /^thopter[-_]/.test(name);

/** Users from every NSS source, not only /etc/passwd. */
export async function accounts(): Promise<Account[]> {
  const { stdout } = await run("getent", ["passwd"], { maxBuffer: 64 * 1024 * 1024 });
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [name = "", , uid, , , home = ""] = line.split(":");
      return { name, uid: Number(uid), home };
    });
}

async function groupIds(): Promise<Set<number>> {
  const { stdout } = await run("getent", ["group"], { maxBuffer: 64 * 1024 * 1024 });
  return new Set(
    stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => Number(line.split(":")[2])),
  );
}

/** The exit code of a failed useradd/groupadd/userdel (see their man pages), or rethrows what is not one. */
function exitCode(err: unknown, tool: string): number {
  const code = (err as { code?: unknown }).code;
  if (code === "ENOENT") {
    throw new Error(
      `${tool} is not installed: a hub run as root makes a user per local thopter with shadow's tools (Debian: apt-get install passwd)`,
    );
  }
  if (typeof code !== "number") throw err;
  return code;
}

const stderrOf = (err: unknown) => String((err as { stderr?: string }).stderr ?? (err as Error).message).trim();

/** Exit code of shadow's tools when another process holds the passwd/group lock: worth another try. */
const LOCKED = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs one of shadow's tools, waiting out another process's lock on /etc/passwd or /etc/group. */
async function shadowTool(tool: string, args: string[]): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      await run(tool, args);
      return 0;
    } catch (err) {
      const code = exitCode(err, tool);
      if (code !== LOCKED || attempt >= 20) {
        if (code === LOCKED) throw new Error(`${tool} ${args.join(" ")}: ${stderrOf(err)}`);
        return code;
      }
      await sleep(100 + attempt * 50);
    }
  }
}

/** The first uid of the range that no user, group or live process holds, other than those already tried. */
async function freeUid(range: UidRange, tried: ReadonlySet<number>): Promise<number | undefined> {
  const [users, groups, running] = await Promise.all([accounts(), groupIds(), uidsInUse()]);
  const taken = new Set([...users.map((u) => u.uid), ...groups, ...running, ...tried]);
  for (let uid = range.first; uid <= range.last; uid++) if (!taken.has(uid)) return uid;
  return undefined;
}

/** Deletes the group `name` when it is a leftover of ours (a create interrupted between groupadd and useradd). */
async function removeLeftoverGroup(name: string, range: UidRange): Promise<void> {
  const line = await run("getent", ["group", name]).then(
    ({ stdout }) => stdout.trim(),
    () => "",
  );
  const gid = Number(line.split(":")[2]);
  const ours = gid >= range.first && gid <= range.last && !(await accounts()).some((a) => a.name === name);
  if (ours) await shadowTool("groupdel", ["--", name]);
}

/**
 * Creates `name` with its own group, both with the first free id of the range, its home at `home` (not made here: it
 * is inside the thopter's directory). Another process taking the same id meanwhile moves it on to the next one.
 */
export async function createThopterUser(name: string, range: UidRange, home: string): Promise<ThopterUser> {
  await removeLeftoverGroup(name, range);
  const tried = new Set<number>();
  for (;;) {
    const uid = await freeUid(range, tried);
    if (uid === undefined) {
      throw new Error(
        `no free uid in LOCAL_THOPTER_UID_RANGE ${formatRange(range)} for ${name}: every one is held by a user, group or process; stop some thopters, or widen LOCAL_THOPTER_UID_RANGE`,
      );
    }
    tried.add(uid);
    const id = String(uid);
    const group = await shadowTool("groupadd", ["--gid", id, "--", name]);
    if (group === 4) continue; // gid taken meanwhile
    if (group !== 0) throw new Error(`groupadd ${name} failed (exit ${group}): does a group ${name} exist already?`);
    const args = ["--uid", id, "--gid", id, "--no-create-home", "--home-dir", home, "--shell", "/bin/bash"];
    const user = await shadowTool("useradd", [...args, "--no-log-init", "--comment", "thopter agent", "--", name]);
    if (user === 0) return { name, uid, gid: uid };
    await shadowTool("groupdel", ["--", name]);
    if (user === 4) continue; // uid taken meanwhile
    throw new Error(`useradd ${name} failed (exit ${user}): does a user ${name} exist already?`);
  }
}

/** Deletes the user and its group; both already gone is fine. Its processes must be gone first (userdel refuses). */
export async function deleteThopterUser(name: string): Promise<void> {
  let user = await shadowTool("userdel", ["--", name]);
  // 8: still "in use": a killed process not yet reaped (its parent is init, which reaps when it gets to it).
  for (let wait = 0; user === 8 && wait < 50; wait++) {
    await sleep(100);
    user = await shadowTool("userdel", ["--", name]);
  }
  if (user !== 0 && user !== 6) throw new Error(`userdel ${name} failed (exit ${user})`);
  // userdel takes a user's own group with it when USERGROUPS_ENAB is on; otherwise it is still there.
  const group = await shadowTool("groupdel", ["--", name]);
  if (group !== 0 && group !== 6) throw new Error(`groupdel ${name} failed (exit ${group})`);
}
