import { constants } from "node:fs";
import { lstat, mkdir, open, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { LOG_MAX_SESSION_FILES, type LogChunkResult, LogFileName } from "@thopter/protocol";

export interface LogArchiveOptions {
  /** The archive's folder (`STATE/.logs`): one folder per thopter, named by its id. */
  dir: string;
  /** LOG_ARCHIVE_MAX_MB in bytes: what one thopter's files may hold together. */
  maxBytes: number;
  /** STORE_RETENTION_DAYS: an archive stays this long after its last write. */
  retentionDays: number;
}

/** What an append did: `gap` when `offset` lies past what the hub holds (the sender resumes from `size`). */
export type AppendResult = LogChunkResult & { gap: boolean };

/** One thopter's archive as the pages show it. */
export interface ArchiveInfo {
  bytes: number;
  /** When the archive is removed, unless written to again (newest write + retention). */
  keptUntil: Date;
  /** Set once the archive reached its cap: what was written after it is not kept. */
  capped?: { at: string; file: string };
}

export class TooManyFiles extends Error {}

/** The archive's folder in the state folder (the leading dot keeps the file store from reading it as keys). */
export const LOG_ARCHIVE_DIR = ".logs";
const DAY_MS = 86_400_000;
const CAPPED_FILE = "capped.json";
const SESSIONS = "sessions";
// O_NOFOLLOW: the folder is the hub's own, but a link planted there must never redirect a write.
const APPEND = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW;
const ID_SHAPE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/**
 * Each thopter's boot log and session transcripts, kept by the hub (`docs/architecture.md#what-users-see`): files under
 * `<dir>/<thopter id>/`, named from the id and the `LogFileName` only, appended to at the offset the thopter sends (a
 * retry is kept once), up to `maxBytes` per thopter (past it the rest is dropped and `capped.json` says from when),
 * removed `retentionDays` after the last write once the thopter is gone. Appends of one thopter run one at a time.
 */
export class LogArchive {
  private readonly used = new Map<string, number>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(readonly options: LogArchiveOptions) {}

  folder(thopterId: string): string {
    if (!ID_SHAPE.test(thopterId)) throw new Error(`thopter id ${JSON.stringify(thopterId)} cannot name an archive`);
    return join(this.options.dir, thopterId);
  }

  /** Where the transcripts of a thopter are (each `<name>.jsonl`). */
  sessionsFolder(thopterId: string): string {
    return join(this.folder(thopterId), SESSIONS);
  }

  bootLog(thopterId: string): string {
    return join(this.folder(thopterId), "boot.log");
  }

  private path(thopterId: string, file: LogFileName): string {
    const name = LogFileName.parse(file);
    if (name === "boot") return this.bootLog(thopterId);
    return join(this.sessionsFolder(thopterId), `${name.slice("session-".length)}.jsonl`);
  }

  /** Appends what of `data` (the file's bytes from `offset`) lies past what is kept. */
  append(thopterId: string, file: LogFileName, offset: number, data: Buffer): Promise<AppendResult> {
    const previous = this.queues.get(thopterId) ?? Promise.resolve();
    const next = previous.then(() => this.appendNow(thopterId, file, offset, data));
    const settled = next.catch(() => undefined);
    this.queues.set(thopterId, settled);
    void settled.then(() => {
      if (this.queues.get(thopterId) === settled) this.queues.delete(thopterId);
    });
    return next;
  }

  private async appendNow(thopterId: string, file: LogFileName, offset: number, data: Buffer): Promise<AppendResult> {
    const path = this.path(thopterId, file);
    const capped = (await this.readCapped(thopterId)) !== undefined;
    const found = await lstat(path).catch(() => undefined);
    if (found && !found.isFile())
      throw new Error(`${path} is not a regular file: the archive does not write through it`);
    const size = found?.size;
    if (size === undefined && file !== "boot" && (await this.sessionCount(thopterId)) >= LOG_MAX_SESSION_FILES) {
      throw new TooManyFiles(`this thopter's archive holds ${LOG_MAX_SESSION_FILES} transcripts already`);
    }
    const held = size ?? 0;
    if (offset > held) return { size: held, capped, gap: true };
    const fresh = data.subarray(Math.min(data.length, held - offset));
    if (fresh.length === 0 || capped) return { size: held, capped, gap: false };
    const used = await this.usedBytes(thopterId);
    if (used + fresh.length > this.options.maxBytes) {
      await this.writeCapped(thopterId, file);
      return { size: held, capped: true, gap: false };
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const handle = await open(path, APPEND, 0o600);
    try {
      // One write with O_APPEND: a crash leaves a prefix of it, and the next chunk's offset fills in the rest.
      await handle.write(fresh);
    } finally {
      await handle.close();
    }
    this.used.set(thopterId, used + fresh.length);
    return { size: held + fresh.length, capped: false, gap: false };
  }

  private async sessionCount(thopterId: string): Promise<number> {
    return (await readdir(this.sessionsFolder(thopterId)).catch(() => [])).length;
  }

  private async files(thopterId: string): Promise<string[]> {
    const sessions = await readdir(this.sessionsFolder(thopterId)).catch(() => [] as string[]);
    return [this.bootLog(thopterId), ...sessions.map((name) => join(this.sessionsFolder(thopterId), name))];
  }

  private async usedBytes(thopterId: string): Promise<number> {
    const known = this.used.get(thopterId);
    if (known !== undefined) return known;
    let total = 0;
    for (const file of await this.files(thopterId)) total += (await lstat(file).catch(() => undefined))?.size ?? 0;
    this.used.set(thopterId, total);
    return total;
  }

  private async readCapped(thopterId: string): Promise<ArchiveInfo["capped"]> {
    try {
      return JSON.parse(await readFile(join(this.folder(thopterId), CAPPED_FILE), "utf8"));
    } catch {
      return undefined;
    }
  }

  private async writeCapped(thopterId: string, file: LogFileName): Promise<void> {
    const folder = this.folder(thopterId);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const tmp = join(folder, `.${CAPPED_FILE}.tmp`);
    await writeFile(tmp, JSON.stringify({ at: new Date().toISOString(), file }), { mode: 0o600 });
    await rename(tmp, join(folder, CAPPED_FILE));
  }

  /** The archive of a thopter, or undefined when nothing of it was kept (or `thopterId` cannot name one). */
  async info(thopterId: string): Promise<ArchiveInfo | undefined> {
    if (!ID_SHAPE.test(thopterId)) return undefined;
    let bytes = 0;
    let newest = 0;
    for (const file of await this.files(thopterId)) {
      const stat = await lstat(file).catch(() => undefined);
      if (!stat?.isFile()) continue;
      bytes += stat.size;
      newest = Math.max(newest, stat.mtimeMs);
    }
    if (newest === 0) return undefined;
    const keptUntil = new Date(newest + this.options.retentionDays * DAY_MS);
    const capped = await this.readCapped(thopterId);
    return capped ? { bytes, keptUntil, capped } : { bytes, keptUntil };
  }

  /**
   * Removes the archives last written before `now - retentionDays` whose thopter `live` does not name (a thopter
   * still running keeps its archive however old); returns how many went.
   */
  async prune(live: (thopterId: string) => boolean, now = Date.now()): Promise<number> {
    const ids = await readdir(this.options.dir).catch(() => [] as string[]);
    let removed = 0;
    for (const id of ids.filter((name) => ID_SHAPE.test(name))) {
      if (live(id)) continue;
      const info = await this.info(id);
      if (info && info.keptUntil.getTime() > now) continue;
      await rm(this.folder(id), { recursive: true, force: true });
      this.used.delete(id);
      removed++;
    }
    return removed;
  }
}
