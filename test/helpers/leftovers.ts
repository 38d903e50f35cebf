import { readdirSync, readFileSync, readlinkSync } from "node:fs";

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
