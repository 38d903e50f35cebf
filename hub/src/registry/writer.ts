import type { Logger } from "pino";
import type { Store } from "../store/store.js";

/**
 * Write-behind for one store key per item, with group commit: `flush(key)` resolves once a `put` that started
 * after the call has finished, so every change made before it is durable; changes made while a put is in flight
 * share the next one. `touch(key)` only marks the key dirty; the periodic sweep writes it later. That keeps
 * chatty, unimportant updates (heartbeats) from costing one store write each.
 */
export class CoalescingWriter {
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly queued = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  /** Keys whose last put failed: what memory holds for them may have been refused to a client, so write them eagerly. */
  private readonly failed = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    /** The value to write for a key at the moment the put starts (undefined: delete the key). */
    private readonly snapshot: (key: string) => unknown,
    private readonly log: Logger,
    sweepMs: number,
  ) {
    this.timer = setInterval(() => void this.sweep(), sweepMs);
    this.timer.unref();
  }

  touch(key: string): void {
    this.dirty.add(key);
  }

  hasFailed(key: string): boolean {
    return this.failed.has(key);
  }

  flush(key: string): Promise<void> {
    const waiting = this.queued.get(key);
    if (waiting) return waiting;
    const previous = this.inflight.get(key) ?? Promise.resolve();
    const next = previous
      .catch(() => {})
      .then(async () => {
        this.queued.delete(key);
        this.dirty.delete(key);
        try {
          const value = this.snapshot(key);
          if (value === undefined) await this.store.delete(key);
          else await this.store.put(key, value);
          this.failed.delete(key);
        } catch (err) {
          // The change is still in memory: mark it so the next sweep (or the next update) retries.
          this.dirty.add(key);
          this.failed.add(key);
          throw err;
        }
      });
    this.queued.set(key, next);
    this.inflight.set(key, next);
    void next
      .finally(() => {
        if (this.inflight.get(key) === next) this.inflight.delete(key);
      })
      .catch(() => {});
    return next;
  }

  /** Writes every dirty key now. */
  async sweep(): Promise<void> {
    const keys = [...this.dirty];
    const results = await Promise.allSettled(keys.map((key) => this.flush(key)));
    const failed = results.filter((r) => r.status === "rejected").length;
    if (failed > 0)
      this.log.error(
        { failed, err: (results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason },
        "store write failed; will retry",
      );
  }

  /** Stops the sweep after writing everything still dirty. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.sweep();
    await Promise.allSettled([...this.inflight.values()]);
  }
}
