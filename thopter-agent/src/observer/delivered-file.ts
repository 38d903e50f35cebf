import { z } from "zod";
import { readStateFile, writeStateFile } from "./state-file.js";

/**
 * Follow-ups typed into Claude's session that the hub has not confirmed yet: every report carries them (hooks too),
 * and the observer never types one of them again, so each reaches Claude once across observer restarts.
 */
const FILE = "delivered.json";
const Ids = z.array(z.string());

export function readDelivered(stateDir: string): string[] {
  const parsed = Ids.safeParse(readStateFile(stateDir, FILE));
  return parsed.success ? parsed.data : [];
}

export function writeDelivered(stateDir: string, ids: readonly string[]): void {
  writeStateFile(stateDir, FILE, ids);
}
