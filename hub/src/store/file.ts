import { constants, readFileSync } from "node:fs";
import { access, type FileHandle, link, mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { assertKey, byKey, toJson } from "./codec.js";
import { classifyFileName, fileNameForKey, tempFileName } from "./file-names.js";
import type { Store } from "./store.js";

/**
 * Files `list` reads between yields to the event loop. Reads are synchronous: for small local files that is
 * ten times faster than the thread pool, and a batch blocks for only a few milliseconds.
 */
const LIST_BATCH = 256;

/** A temporary file this old is left over from a crash whatever its pid says: writes take milliseconds. */
const STALE_TEMP_MS = 10 * 60_000;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errno(err) === "EPERM";
  }
}

/**
 * The embedded store: one JSON file `{"key":…,"value":…}` per key in one folder. Every write goes to a
 * temporary file that is fsynced and then renamed (or hard-linked, for `putIfAbsent`) into place, and the
 * folder is fsynced before the call resolves; so after a crash a key holds its old or its new value, whole.
 * Several processes may share the folder: `putIfAbsent` relies on link(2) failing with EEXIST.
 */
export class FileStore implements Store {
  private closed = false;
  /** Operations under way; `close` waits for them so none fsyncs a closed folder handle. */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** The latest operation called on each key, so the next one on that key waits for it. */
  private readonly lastOnKey = new Map<string, Promise<unknown>>();
  /** The directory fsync in progress, and the one queued behind it (shared by every writer that waits). */
  private syncing: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    private readonly dirHandle: FileHandle,
  ) {}

  /** Opens (creating it if needed) the store folder and removes temporary files left by dead writers. */
  static async open(dir: string): Promise<FileStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Fail at start, not at the first write, when the folder is read-only for us.
    await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    const store = new FileStore(dir, await open(dir, "r"));
    try {
      await store.removeStaleTemps();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  get<T = unknown>(key: string): Promise<T | undefined> {
    return this.run(key, async () => {
      const entry = this.readEntry(fileNameForKey(key));
      return entry?.key === key ? (entry.value as T) : undefined;
    });
  }

  put(key: string, value: unknown): Promise<void> {
    return this.run(key, async () => {
      const temp = await this.writeTemp(key, value);
      try {
        await rename(join(this.dir, temp), join(this.dir, fileNameForKey(key)));
      } catch (err) {
        await this.removeQuietly(temp);
        throw err;
      }
      await this.syncDir();
    });
  }

  putIfAbsent(key: string, value: unknown): Promise<boolean> {
    return this.run(key, async () => {
      const target = join(this.dir, fileNameForKey(key));
      // Cheap answer for the common "already there" case; link() below stays the authority under races.
      if (await this.exists(target)) return false;
      const temp = await this.writeTemp(key, value);
      let created = true;
      try {
        await link(join(this.dir, temp), target);
      } catch (err) {
        if (errno(err) !== "EEXIST") throw err;
        created = false;
      } finally {
        await this.removeQuietly(temp);
      }
      if (created) await this.syncDir();
      return created;
    });
  }

  delete(key: string): Promise<void> {
    return this.run(key, async () => {
      try {
        await unlink(join(this.dir, fileNameForKey(key)));
      } catch (err) {
        if (errno(err) === "ENOENT") return;
        throw err;
      }
      await this.syncDir();
    });
  }

  list<T = unknown>(prefix: string): Promise<Array<{ key: string; value: T }>> {
    return this.run(undefined, async () => {
      const names: string[] = [];
      for (const dirent of await readdir(this.dir, { withFileTypes: true })) {
        if (!dirent.isFile()) continue;
        const entry = classifyFileName(dirent.name);
        if (entry.kind === "hashed" || (entry.kind === "key" && entry.key.startsWith(prefix))) names.push(dirent.name);
      }
      const found: Array<{ key: string; value: T }> = [];
      for (let i = 0; i < names.length; i += LIST_BATCH) {
        if (i > 0) await yieldToEventLoop();
        for (const name of names.slice(i, i + LIST_BATCH)) {
          const entry = this.readEntry(name);
          if (entry?.key.startsWith(prefix)) found.push(entry as { key: string; value: T });
        }
      }
      return found.sort(byKey);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled(this.inFlight);
    await this.dirHandle.close();
  }

  /**
   * Checks the store is open and the key valid, then runs `op` in call order, as one Redis connection would:
   * after the previous operation on the same key, or for `list` (no key) after every operation already called.
   * Tracked so `close` can wait for it.
   */
  private run<T>(key: string | undefined, op: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`file store ${this.dir} is closed`));
    try {
      if (key !== undefined) assertKey(key);
    } catch (err) {
      return Promise.reject(err);
    }
    const before = key === undefined ? [...this.inFlight] : [this.lastOnKey.get(key)];
    const done = Promise.allSettled(before).then(op);
    this.inFlight.add(done);
    if (key !== undefined) this.lastOnKey.set(key, done);
    const forget = () => {
      this.inFlight.delete(done);
      if (key !== undefined && this.lastOnKey.get(key) === done) this.lastOnKey.delete(key);
    };
    done.then(forget, forget);
    return done;
  }

  /** The entry stored under a file name, or undefined when there is none (deleted meanwhile included). */
  private readEntry(name: string): { key: string; value: unknown } | undefined {
    let text: string;
    try {
      text = readFileSync(join(this.dir, name), "utf8");
    } catch (err) {
      if (errno(err) === "ENOENT") return undefined;
      throw err;
    }
    try {
      const entry = JSON.parse(text) as { key?: unknown; value?: unknown };
      if (typeof entry.key !== "string" || !("value" in entry)) throw new Error("not a {key, value} object");
      return { key: entry.key, value: entry.value };
    } catch (err) {
      throw new Error(`store file ${join(this.dir, name)} is corrupt (${(err as Error).message}); move it away`);
    }
  }

  /** Writes the entry to a new temporary file and fsyncs it; returns the file's name. */
  private async writeTemp(key: string, value: unknown): Promise<string> {
    const data = `{"key":${JSON.stringify(key)},"value":${toJson(value)}}\n`;
    const name = tempFileName();
    const file = await open(join(this.dir, name), "wx", 0o600);
    let written = false;
    try {
      await file.writeFile(data, "utf8");
      await file.datasync();
      written = true;
    } finally {
      await file.close();
      if (!written) await this.removeQuietly(name);
    }
    return name;
  }

  /**
   * fsyncs the folder so renames and links are durable. Writers that arrive while one fsync runs share the
   * next one (it may have started before their rename), so a burst of writes costs two fsyncs, not one each.
   */
  private syncDir(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.syncing) {
      this.syncing = this.dirHandle.sync().finally(() => {
        this.syncing = undefined;
      });
      return this.syncing;
    }
    this.queued = this.syncing
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.syncDir();
      });
    return this.queued;
  }

  private async exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch (err) {
      if (errno(err) === "ENOENT") return false;
      throw err;
    }
  }

  private async removeQuietly(name: string): Promise<void> {
    await unlink(join(this.dir, name)).catch(() => undefined);
  }

  /**
   * Removes temporary files whose writer is dead, or that are too old to belong to a write still under way
   * (after a reboot their pid may name some unrelated process).
   */
  private async removeStaleTemps(): Promise<void> {
    for (const name of await readdir(this.dir)) {
      const entry = classifyFileName(name);
      if (entry.kind !== "temp" || entry.pid === process.pid) continue;
      const old = await stat(join(this.dir, name)).then(
        (s) => Date.now() - s.mtimeMs > STALE_TEMP_MS,
        () => false,
      );
      if (old || !isAlive(entry.pid)) await this.removeQuietly(name);
    }
  }
}
