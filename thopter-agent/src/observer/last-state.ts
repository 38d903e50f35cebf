import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { StatusReport } from "@thopter/protocol";

/** What was last reported and when a hook last fired: the hooks write it, the observer's heartbeat repeats it. */
export interface LastState {
  report: StatusReport;
  /** ms since the epoch when a hook last fired (absent: reported by the observer itself). */
  hookAt?: number;
  /** ms since the epoch when anything was last reported or spooled. */
  reportedAt: number;
}

const FILE = "last.json";

export function readLastState(stateDir: string): LastState | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, FILE), "utf8")) as LastState;
  } catch {
    return undefined;
  }
}

/** Replaced in one rename, so a reader never sees half of it. */
export function writeLastState(stateDir: string, state: LastState): void {
  const tmp = join(stateDir, `.${FILE}.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
  renameSync(tmp, join(stateDir, FILE));
}
