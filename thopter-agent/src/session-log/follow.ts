import { type FSWatcher, watch } from "node:fs";
import { type AgentFileRules, findAgentFiles, ownFiles } from "../agent-files/index.js";
import { FileTailer, type TailEvents } from "./tail.js";

export interface FollowOptions {
  /** Claude Code's projects folder for the workspace (or above it): every `*.jsonl` below it is a session. */
  dir: string;
  /** Called once per session file, oldest first, then for each new one as it appears. */
  open(file: string): TailEvents;
  pollMs?: number;
  onError?(err: unknown): void;
  /** Who must own a transcript and where it must really lie; default this process's uid, inside `dir`. */
  rules?: AgentFileRules;
}

/**
 * Follows every session transcript in a folder: the ones already there (by age) and each new one (a `/clear` or a
 * restart starts a new file), each with its own `FileTailer`. The folder may not exist yet: it is polled until it does.
 * The folder is the agent's: it is walked without following links and each file opened as `openAgentFile` allows.
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
      const found = await findAgentFiles(this.opts.dir, ".jsonl");
      this.watchFolder();
      const fresh = found.filter((f) => !this.tailers.has(f.path)).sort((a, b) => a.mtimeMs - b.mtimeMs);
      const rules = this.opts.rules ?? ownFiles(this.opts.dir);
      for (const { path } of fresh) {
        if (this.stopped) break;
        const tailer = new FileTailer(path, this.opts.open(path), this.opts.pollMs, this.opts.onError, rules);
        this.tailers.set(path, tailer);
        tailer.start();
      }
    } catch (err) {
      this.opts.onError?.(err);
    } finally {
      this.scanning = false;
    }
  }
}
