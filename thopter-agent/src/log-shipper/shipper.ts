import type { FileHandle } from "node:fs/promises";
import { dirname, relative } from "node:path";
import { LOG_CHUNK_MAX_BYTES, type LogFileName, sessionLogName } from "@thopter/protocol";
import type { Logger } from "pino";
import { type AgentFileRules, findAgentFiles, openAgentFile, ownFiles, RefusedFile } from "../agent-files/index.js";
import { type ChunkOutcome, postLogChunk } from "./post.js";

export interface LogShipperOptions {
  collectorUrl: string;
  /** The broker-role token (root only: the agent cannot write into its thopter's archive); undefined: none yet. */
  token(): string | undefined;
  /** The boot log (root's own file). */
  bootLog: string;
  /** Claude's projects folder, and who must own a transcript and where it must really lie (the agent's home). */
  sessions: { dir: string; rules: AgentFileRules };
  log: Logger;
  /** Between passes; default 1 s. */
  intervalMs?: number;
}

/** Chunks per file per pass: a busy transcript is sent at up to 2 MiB a second, and the others get their turn. */
const CHUNKS_PER_PASS = 8;

interface Shipped {
  offset: number;
  /** Nothing more is sent (the archive is full, or the hub refused the file). */
  done: boolean;
}

/**
 * Streams the boot log and every session transcript to the hub as they grow (`POST /v1/logs`), so they outlive the
 * machine (`docs/architecture.md#what-users-see`). Runs in boot, as root: transcripts are the agent's files and are
 * opened only by `openAgentFile` (no link, FIFO, device or someone else's file), the folder walked by `findAgentFiles`.
 * Each chunk ends at a line's end where it can, so an archive cut by its cap ends on a whole line.
 */
export class LogShipper {
  private readonly files = new Map<LogFileName, Shipped>();
  private readonly refused = new Set<string>();
  /** One read buffer: files are sent one after another. */
  private readonly buffer = Buffer.allocUnsafe(LOG_CHUNK_MAX_BYTES);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: LogShipperOptions) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), this.options.intervalMs ?? 1_000);
    this.wake();
  }

  /** A last pass (what was written until now, unfinished last lines too), then no more. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    if (this.stopped) return;
    this.stopped = true;
    await this.pass(true);
  }

  private wake(): void {
    if (this.running || this.stopped) return;
    this.running = this.pass(false)
      .catch((err: unknown) => this.options.log.warn({ err: (err as Error).message }, "log shipping pass failed"))
      .finally(() => {
        this.running = undefined;
      });
  }

  /** One look at every file: sends what is new of each. */
  async pass(final: boolean): Promise<void> {
    const token = this.options.token();
    if (!token) return;
    const send = (file: LogFileName, offset: number, body: Buffer) =>
      postLogChunk({ collectorUrl: this.options.collectorUrl, token, timeoutMs: 10_000 }, { file, offset }, body);
    const { bootLog, sessions } = this.options;
    await this.ship("boot", bootLog, ownFiles(dirname(bootLog)), send, final);
    const found = await findAgentFiles(sessions.dir, ".jsonl");
    for (const { path } of found.sort((a, b) => a.mtimeMs - b.mtimeMs)) {
      await this.ship(sessionLogName(relative(sessions.dir, path)), path, sessions.rules, send, final);
    }
  }

  private async ship(
    file: LogFileName,
    path: string,
    rules: AgentFileRules,
    send: (file: LogFileName, offset: number, body: Buffer) => Promise<ChunkOutcome>,
    final: boolean,
  ): Promise<void> {
    const state = this.files.get(file) ?? { offset: 0, done: false };
    this.files.set(file, state);
    if (state.done) return;
    const handle = await this.open(path, rules);
    if (!handle) return;
    try {
      for (let i = 0; i < CHUNKS_PER_PASS; i++) {
        const { bytesRead } = await handle.read(this.buffer, 0, this.buffer.length, state.offset);
        const chunk = wholeLines(this.buffer.subarray(0, bytesRead), final);
        if (chunk.length === 0) return;
        const outcome = await send(file, state.offset, chunk);
        if (outcome.kind === "retry") return;
        if (outcome.kind === "refused") {
          state.done = true;
          this.options.log.warn({ file, why: outcome.why }, "the hub refused a log file: it is not archived further");
          return;
        }
        // The hub's size is where the next chunk starts: a retried chunk is not sent twice, a lost one again.
        state.offset = outcome.size;
        if (outcome.capped) {
          state.done = true;
          this.options.log.warn({ file }, "the hub's log archive of this thopter is full: the rest is not kept");
          return;
        }
      }
    } finally {
      await handle.close();
    }
  }

  private async open(path: string, rules: AgentFileRules): Promise<FileHandle | undefined> {
    try {
      return await openAgentFile(path, rules);
    } catch (err) {
      if (err instanceof RefusedFile) {
        if (!this.refused.has(path)) this.options.log.warn({ file: path, reason: err.reason }, "not archived");
        this.refused.add(path);
        return undefined;
      }
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }
}

/**
 * What of `bytes` (read from the file's `offset`) to send: up to its last newline, so a chunk ends on a whole line;
 * a full buffer without one (part of a giant line) whole; on the last pass everything, an unfinished line too.
 */
function wholeLines(bytes: Buffer, final: boolean): Buffer {
  if (final) return bytes;
  const end = bytes.lastIndexOf(0x0a);
  if (end >= 0) return bytes.subarray(0, end + 1);
  return bytes.length === LOG_CHUNK_MAX_BYTES ? bytes : bytes.subarray(0, 0);
}
