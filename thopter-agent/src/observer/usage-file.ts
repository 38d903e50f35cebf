import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelUsage } from "@thopter/protocol";

/** The observer's latest transcript totals, which every hook report carries (hooks are short-lived processes). */
const FILE = "usage.json";

export function readUsage(stateDir: string): ModelUsage | undefined {
  try {
    const parsed = ModelUsage.safeParse(JSON.parse(readFileSync(join(stateDir, FILE), "utf8")));
    return parsed.success && Object.keys(parsed.data).length > 0 ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Replaced in one rename, so a hook never reads half of it. */
export function writeUsage(stateDir: string, models: ModelUsage): void {
  const tmp = join(stateDir, `.${FILE}.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(models), { mode: 0o600 });
  renameSync(tmp, join(stateDir, FILE));
}
