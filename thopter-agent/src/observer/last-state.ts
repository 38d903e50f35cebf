import type { StatusReport } from "@thopter/protocol";
import { readStateFile, writeStateFile } from "./state-file.js";

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
  return readStateFile(stateDir, FILE) as LastState | undefined;
}

export function writeLastState(stateDir: string, state: LastState): void {
  writeStateFile(stateDir, FILE, state);
}
