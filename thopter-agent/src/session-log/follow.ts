import { type FSWatcher, watch } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { FileTailer, type TailEvents } from "./tail.js";

export interface FollowOptions {
  /** Claude Code's projects folder for the workspace (or above it): every `*.jsonl` below it is a session. */
  dir: string;
  /** Called once per session file, oldest first, then for each new one as it appears. */
  open(file: string): TailEvents;
  pollMs?: number;
  onError?(err: unknown): void;
}

/**
 * Follows every session transcript in a folder: the ones already there (by age) and each new one (a `/clear` or a
 * restart starts a new file), each with its own `FileTailer`. The folder may not exist yet: it is polled until it does.
 */
export class TranscriptFolder {
  private readonly tailers = new Map<string, FileTailer>();
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private scanning = false;
  private stopped = false;

  constructor(private readonly opts: FollowOptions) {}

  start(): void {
    const pollMs = this.opts.pollMs ?? 250;
    this.timer = setInterval(() => void this.scan(), pollMs);
    void this.scan();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.watcher?.close();
    await Promise.all([...this.tailers.values()].map((t) => t.stop()));
  }

  private watchFolder(): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(this.opts.dir, () => void this.scan());
      this.watcher.on("error", () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      // Not there yet: the poll retries.
    }
  }

  private async scan(): Promise<void> {
    if (this.scanning || this.stopped) return;
    this.scanning = true;
    try {
      let names: string[];
      try {
        names = await readdir(this.opts.dir, { recursive: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        throw err;
      }
      this.watchFolder();
      const fresh = names
        .filter((n) => n.endsWith(".jsonl"))
        .map((n) => join(this.opts.dir, n))
        .filter((f) => !this.tailers.has(f));
      const aged = await Promise.all(
        fresh.map(async (file) => ({ file, mtime: (await stat(file).catch(() => undefined))?.mtimeMs })),
      );
      aged.sort((a, b) => (a.mtime ?? 0) - (b.mtime ?? 0));
      for (const { file, mtime } of aged) {
        if (mtime === undefined || this.stopped) continue;
        const tailer = new FileTailer(file, this.opts.open(file), this.opts.pollMs, this.opts.onError);
        this.tailers.set(file, tailer);
        tailer.start();
      }
    } catch (err) {
      this.opts.onError?.(err);
    } finally {
      this.scanning = false;
    }
  }
}
