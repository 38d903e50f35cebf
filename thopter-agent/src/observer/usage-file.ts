import { ModelUsage } from "@thopter/protocol";
import { readStateFile, writeStateFile } from "./state-file.js";

/** The observer's latest transcript totals, which every hook report carries (hooks are short-lived processes). */
const FILE = "usage.json";

export function readUsage(stateDir: string): ModelUsage | undefined {
  const parsed = ModelUsage.safeParse(readStateFile(stateDir, FILE));
  return parsed.success && Object.keys(parsed.data).length > 0 ? parsed.data : undefined;
}

export function writeUsage(stateDir: string, models: ModelUsage): void {
  writeStateFile(stateDir, FILE, models);
}
