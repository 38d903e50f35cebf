import { appendFileSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StatusReport } from "@thopter/protocol";
import type { PostOutcome } from "./post.js";

/**
 * Reports the hub has not taken yet, one JSON line each, kept in order: hooks append to `spool.jsonl`; the observer
 * moves it aside to `spool.draining.jsonl` and sends from there, so an append never races a rewrite.
 */
export class Spool {
  private readonly incoming: string;
  private readonly draining: string;

  constructor(stateDir: string) {
    this.incoming = join(stateDir, "spool.jsonl");
    this.draining = join(stateDir, "spool.draining.jsonl");
  }

  /** True while anything waits: a new report must queue behind it rather than overtake it. */
  pending(): boolean {
    return size(this.incoming) > 0 || size(this.draining) > 0;
  }

  append(report: StatusReport): void {
    appendFileSync(this.incoming, `${JSON.stringify(report)}\n`, { mode: 0o600 });
  }

  /**
   * Sends what waits, oldest first, until one send must be retried. Refused reports are dropped (the hub will never
   * take them). Returns how many reports left the spool.
   */
  async drain(send: (report: StatusReport) => Promise<PostOutcome>): Promise<number> {
    if (size(this.draining) === 0) {
      if (size(this.incoming) === 0) return 0;
      renameSync(this.incoming, this.draining);
    }
    const lines = readFileSync(this.draining, "utf8").split("\n").filter(Boolean);
    let done = 0;
    for (const line of lines) {
      const parsed = StatusReport.safeParse(safeJson(line));
      if (parsed.success && (await send(parsed.data)) === "retry") break;
      done++;
    }
    const rest = lines.slice(done);
    if (rest.length === 0) rmSync(this.draining, { force: true });
    else writeFileSync(this.draining, `${rest.join("\n")}\n`, { mode: 0o600 });
    return done;
  }
}

function size(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
