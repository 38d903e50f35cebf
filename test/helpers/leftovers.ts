import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { LocalProvider } from "@thopter/hub/providers/local/local-provider";
import { pino } from "pino";

export interface Leftover {
  pid: number;
  command: string;
}

function read(path: string, how: "file" | "link"): string {
  try {
    return how === "file" ? readFileSync(path, "latin1") : readlinkSync(path);
  } catch {
    return ""; // gone meanwhile, or another user's (not root): nothing to see
  }
}

/**
 * Processes (other than this one) whose command line, environment or working directory mentions `marker`, e.g. a
 * test's temporary folder: what a local thopter carries (cwd and THOPTER_FS_ROOT under its machine folder), detached
 * and in its own session or not.
 */
export function processesMentioning(marker: string): Leftover[] {
  const found: Leftover[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const cmdline = read(`/proc/${pid}/cmdline`, "file");
    const env = read(`/proc/${pid}/environ`, "file");
    const cwd = read(`/proc/${pid}/cwd`, "link");
    if ([cmdline, env, cwd].some((text) => text.includes(marker))) {
      found.push({ pid, command: cmdline.replaceAll("\0", " ").trim() });
    }
  }
  return found;
}

/** Throws, naming them, when processes mentioning `marker` are still running after `ms` (they may be exiting). */
export async function assertNoProcessesMentioning(marker: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = processesMentioning(marker);
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      const list = left.map((p) => `${p.pid} ${p.command.slice(0, 200)}`).join("\n");
      throw new Error(`${left.length} process(es) started for ${marker} outlived it:\n${list}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Destroys every local machine under `root` the way the hub's provider does (its processes, its files, its own user):
 * a hub that stops leaves its machines running by design, so a test that ran one as a child removes them itself.
 */
export async function destroyLocalMachines(root: string): Promise<void> {
  const provider = new LocalProvider({ root, log: pino({ level: "silent" }), stopGraceMs: 1_000 });
  for (const machine of await provider.list()) await provider.destroy(machine.ref);
}

/** Throws, naming them, when users whose home lies under `folder` (per-thopter users of a test's hub) still exist. */
export function assertNoUsersUnder(folder: string): void {
  const left = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .filter((line) => (line.split(":")[5] ?? "").startsWith(`${folder}/`));
  if (left.length > 0) throw new Error(`${left.length} user(s) made for ${folder} outlived it:\n${left.join("\n")}`);
}
