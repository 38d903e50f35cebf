import type { ModelUsage } from "@thopter/protocol";
import { TranscriptFolder } from "../session-log/follow.js";
import { UsageTally } from "./usage.js";
import { writeUsage } from "./usage-file.js";

export interface TranscriptUsageOptions {
  /** Claude Code's projects folder for the workspace: every `*.jsonl` below it is a session (or a subagent's). */
  dir: string;
  /** Where `usage.json` goes for the hooks. */
  stateDir: string;
  pollMs?: number;
  onError?(err: unknown): void;
}

/**
 * Counts the model's usage from every session transcript as the CLI writes it: each file is read incrementally from
 * where the last read stopped (`FileTailer`: links, FIFOs and devices are not opened, a file stops counting past
 * 1 GiB), and every change is written to `usage.json` at once, so the hook that fires next already carries it.
 */
export class TranscriptUsage {
  private readonly tally = new UsageTally();
  private readonly folder: TranscriptFolder;
  private written = 0;

  constructor(private readonly opts: TranscriptUsageOptions) {
    this.folder = new TranscriptFolder({
      dir: opts.dir,
      pollMs: opts.pollMs,
      onError: opts.onError,
      open: () => ({
        lines: (lines) => this.count(lines),
        // A truncated or replaced file is read again from its top: messages already counted are recognised by id.
        reset: () => {},
      }),
    });
  }

  start(): void {
    this.folder.start();
  }

  stop(): Promise<void> {
    return this.folder.stop();
  }

  models(): ModelUsage {
    return this.tally.models();
  }

  private count(lines: string[]): void {
    for (const line of lines) this.tally.add(line);
    if (this.tally.version === this.written) return;
    this.written = this.tally.version;
    try {
      writeUsage(this.opts.stateDir, this.tally.models());
    } catch (err) {
      this.opts.onError?.(err);
    }
  }
}
