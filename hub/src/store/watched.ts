import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { Store } from "./store.js";

/** ok; failing (the last operation failed, e.g. ENOSPC, EROFS, Redis down); lost (data this hub wrote is gone). */
export type StoreState = "ok" | "failing" | "lost";

export interface StoreHealth {
  state: StoreState;
  /** Why it is not ok. */
  detail?: string;
  /** When it entered this state. */
  since: string;
}

/** A store operation failed: the store's side, never GitHub's (so health and logs name the right part). */
export class StoreError extends Error {
  override name = "StoreError";
}

/** The store no longer holds what this hub wrote (emptied or rolled back): nothing may be acted on from it. */
export class StoreLostDataError extends StoreError {
  override name = "StoreLostDataError";
}

/** The generation marker: written at start and bumped on every check, so a store that came back older shows. */
const MARKER = "meta/generation";
interface Generation {
  id: string;
  seq: number;
}

/**
 * The hub's store, watched: failures become `StoreError`s and set `health`, and a generation marker detects a store
 * that lost data (Redis restarted without persistence, a folder restored from an old backup). Once lost, every
 * operation fails with the same `StoreLostDataError` until the hub restarts: it never acts on state it cannot trust.
 */
export class WatchedStore extends EventEmitter<{ lost: [error: StoreLostDataError] }> implements Store {
  private current: StoreHealth = { state: "ok", since: new Date().toISOString() };
  private lostError: StoreLostDataError | undefined;
  private generation: Generation | undefined;
  /** A bump whose write failed may or may not have landed: the next check accepts either. */
  private unsure: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly inner: Store,
    private readonly log: Logger,
  ) {
    super();
  }

  get health(): StoreHealth {
    return this.current;
  }

  /** Checks the marker now and every `intervalMs` after. */
  async watch(intervalMs: number): Promise<void> {
    await this.checkGeneration().catch(() => {});
    this.timer = setInterval(() => void this.checkGeneration().catch(() => {}), intervalMs);
    this.timer.unref();
  }

  /** Enters the lost state for good (once): logged, on /healthz, `lost` emitted, and every later operation refuses. */
  markLost(detail: string): StoreLostDataError {
    if (!this.lostError) {
      this.lostError = new StoreLostDataError(
        `the store lost data: ${detail}; the hub stopped provisioning. Check that STORE_URL's store persists ` +
          "(Redis: appendonly yes), then restart the hub",
      );
      this.set("lost", this.lostError.message);
      this.log.error({ part: "store", detail }, this.lostError.message);
      this.emit("lost", this.lostError);
    }
    return this.lostError;
  }

  /** Reads the marker: it must be what this hub wrote last (or absent the first time); then writes the next one. */
  async checkGeneration(): Promise<void> {
    const found = await this.run("get", MARKER, () => this.inner.get<Generation>(MARKER));
    const known = this.generation;
    if (known) {
      const same = found?.id === known.id && (found.seq === known.seq || found.seq === this.unsure);
      if (!same) {
        throw this.markLost(
          found ? `its generation marker went back to ${found.seq} from ${known.seq}` : "its generation marker is gone",
        );
      }
    }
    const next = { id: found?.id ?? randomUUID(), seq: (found?.seq ?? 0) + 1 };
    this.unsure = next.seq;
    this.generation = found ?? known;
    await this.run("put", MARKER, () => this.inner.put(MARKER, next));
    this.generation = next;
    this.unsure = undefined;
  }

  get<T = unknown>(key: string): Promise<T | undefined> {
    return this.run("get", key, () => this.inner.get<T>(key));
  }

  put(key: string, value: unknown): Promise<void> {
    return this.run("put", key, () => this.inner.put(key, value));
  }

  putIfAbsent(key: string, value: unknown): Promise<boolean> {
    return this.run("putIfAbsent", key, () => this.inner.putIfAbsent(key, value));
  }

  delete(key: string): Promise<void> {
    return this.run("delete", key, () => this.inner.delete(key));
  }

  list<T = unknown>(prefix: string): Promise<Array<{ key: string; value: T }>> {
    return this.run("list", prefix, () => this.inner.list<T>(prefix));
  }

  /** Stops the marker checks (a hub stopping on a store it did not open, and so does not close). */
  unwatch(): void {
    clearInterval(this.timer);
  }

  async close(): Promise<void> {
    this.unwatch();
    await this.inner.close();
  }

  private async run<T>(op: string, key: string, work: () => Promise<T>): Promise<T> {
    if (this.lostError) throw this.lostError;
    try {
      const result = await work();
      if (this.current.state === "failing") {
        this.log.info({ part: "store" }, "store answers again");
        this.set("ok");
      }
      return result;
    } catch (err) {
      const message = `store ${op} ${key} failed: ${(err as Error).message}`;
      if (this.current.state !== "lost") this.set("failing", message);
      throw new StoreError(message, { cause: err });
    }
  }

  private set(state: StoreState, detail?: string): void {
    const since = this.current.state === state ? this.current.since : new Date().toISOString();
    this.current = { state, detail, since };
  }
}
