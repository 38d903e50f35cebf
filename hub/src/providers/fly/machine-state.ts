import type { MachineState } from "../provider.js";

/** Fly's machine states in the provider's words; anything Fly adds later counts as stopped, its name kept as detail. */
const STATES: Record<string, MachineState> = {
  created: "starting",
  starting: "starting",
  replacing: "starting",
  updating: "starting",
  launch_failed: "stopped",
  started: "running",
  stopping: "stopping",
  suspending: "stopping",
  destroying: "stopping",
  stopped: "stopped",
  suspended: "stopped",
  failed: "stopped",
  destroyed: "gone",
};

export function machineState(flyState: string | undefined): MachineState {
  return STATES[flyState ?? ""] ?? "stopped";
}
