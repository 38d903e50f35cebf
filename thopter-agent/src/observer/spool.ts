import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StatusReport } from "@thopter/protocol";
import type { PostOutcome } from "./post.js";

/** Reports spooled by this process so far: orders its own reports written in the same millisecond. */
let written = 0;

/**
 * Reports the hub has not taken yet, kept in order: one file per report in `spool/`, named by when it was spooled.
 * Each hook writes its own file (renamed into place whole) and the observer removes a file only once it is sent,
 * so a hook spooling while the observer drains can never lose a report or have it overwritten.
 */
export class Spool {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, "spool");
  }

  /** The spooled reports' files, oldest first. */
  private files(): string[] {
    try {
      return readdirSync(this.dir)
        .filter((name) => name.endsWith(".json"))
        .sort();
    } catch {
      return [];
    }
  }

  /** True while anything waits: a new report must queue behind it rather than overtake it. */
  pending(): boolean {
    return this.files().length > 0;
  }

  append(report: StatusReport, now = Date.now()): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // Fixed-width fields, so names sort as the reports were spooled.
    const name = `${String(now).padStart(15, "0")}-${String(process.pid).padStart(10, "0")}-${String(written++).padStart(6, "0")}`;
    const tmp = join(this.dir, `.${name}.tmp`);
    writeFileSync(tmp, JSON.stringify(report), { mode: 0o600 });
    renameSync(tmp, join(this.dir, `${name}.json`));
  }

  /**
   * Sends what waits, oldest first, until one send must be retried. Refused and unreadable reports are dropped (the
   * hub will never take them). Returns how many reports left the spool.
   */
  async drain(send: (report: StatusReport) => Promise<PostOutcome>): Promise<number> {
    let done = 0;
    for (const name of this.files()) {
      const path = join(this.dir, name);
      const parsed = StatusReport.safeParse(readJson(path));
      if (parsed.success && (await send(parsed.data)) === "retry") break;
      rmSync(path, { force: true });
      done++;
    }
    return done;
  }
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}
