import { type FSWatcher, type Stats, watch } from "node:fs";
import { type FileHandle, lstat } from "node:fs/promises";
import { dirname } from "node:path";
import { type AgentFileRules, openAgentFile, ownFiles, RefusedFile } from "../agent-files/index.js";
import { LineSplitter } from "./lines.js";

/** What a tailer tells its reader. A returned promise pauses reading until it settles (backpressure). */
export interface TailEvents {
  /** New complete lines, in order. */
  lines(lines: string[]): void | Promise<void>;
  /** The file was truncated or replaced: what was delivered is void, lines start again from the top. */
  reset(): void | Promise<void>;
  /** Everything written so far has been delivered (once per catch-up). */
  idle?(): void | Promise<void>;
}

const CHUNK_BYTES = 1 << 20;

/** How much of one file is followed: a planted sparse terabyte must not keep a viewer's reads busy for minutes. */
export const MAX_FILE_BYTES = 1024 ** 3;

/** The line that ends what is shown of a file past MAX_FILE_BYTES. */
export const PAST_LIMIT_LINE = `(the rest of this file, past ${MAX_FILE_BYTES} bytes, is not shown)`;

/**
 * Follows one growing file from its start: every complete line once, the unfinished last line when its newline lands.
 * Wakes on fs.watch and also polls every `pollMs`, since watches miss events on some filesystems and across renames.
 * The file is opened by `openAgentFile` under `rules`: one that is (or becomes) a link, FIFO, device or someone else's
 * is not read (reported once to `onError`, and what was shown of the earlier file is reset).
 */
export class FileTailer {
  private handle?: FileHandle;
  private ino = -1;
  /** The file last refused (inode and change time, so a fixed file or a reused inode is tried again). */
  private refused = "";
  /** Where reading stopped at the limit (so its note is delivered once). */
  private pastLimit = -1;
  private offset = 0;
  private readonly splitter = new LineSplitter();
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    readonly path: string,
    private readonly events: TailEvents,
    private readonly pollMs = 250,
    private readonly onError: (err: unknown) => void = () => {},
    private readonly rules: AgentFileRules = ownFiles(dirname(path)),
  ) {}

  start(): void {
    this.watch();
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.wake();
  }

  private watch(): void {
    this.watcher?.close();
    try {
      this.watcher = watch(this.path, () => this.wake());
      this.watcher.on("error", () => this.watcher?.close());
    } catch {
      // No watch (file gone, or the platform refuses): polling alone still catches up within pollMs.
    }
  }

  /** Reads whatever is new; coalesces calls while a read is running. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.catchUp()
      .catch((err: unknown) => this.onError(err))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.timer);
    await this.running;
    await this.handle?.close();
    this.handle = undefined;
  }

  /** The open file, reopened when the path now names another file (rotation); undefined while there is none to read. */
  private async current(): Promise<{ handle: FileHandle; size: number } | undefined> {
    let info: Stats;
    try {
      info = await lstat(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    if (this.handle && info.ino === this.ino) return { handle: this.handle, size: info.size };
    if (`${info.ino}:${info.ctimeMs}` === this.refused) return undefined;
    const replaced = this.handle !== undefined;
    await this.handle?.close();
    this.handle = undefined;
    try {
      this.handle = await openAgentFile(this.path, this.rules);
    } catch (err) {
      if (!(err instanceof RefusedFile)) throw err;
      this.refused = `${info.ino}:${info.ctimeMs}`;
      if (replaced) await this.restart();
      this.onError(err);
      return undefined;
    }
    this.ino = info.ino;
    if (replaced) {
      this.watch();
      await this.restart();
    }
    return { handle: this.handle, size: info.size };
  }

  private async restart(): Promise<void> {
    this.offset = 0;
    this.pastLimit = -1;
    this.splitter.reset();
    await this.events.reset();
  }

  private async catchUp(): Promise<void> {
    const file = await this.current();
    if (!file) return;
    const { handle } = file;
    if (file.size < this.offset) await this.restart();
    let delivered = false;
    for (;;) {
      if (this.stopped) return;
      if (this.offset >= MAX_FILE_BYTES) {
        if (this.offset !== this.pastLimit) await this.events.lines([PAST_LIMIT_LINE]);
        this.pastLimit = this.offset;
        break;
      }
      const { bytesRead } = await handle.read(this.buffer, 0, CHUNK_BYTES, this.offset);
      if (bytesRead === 0) break;
      this.offset += bytesRead;
      const lines = this.splitter.push(this.buffer.subarray(0, bytesRead));
      if (lines.length > 0) await this.events.lines(lines);
      delivered = true;
    }
    if (delivered) await this.events.idle?.();
  }
}
