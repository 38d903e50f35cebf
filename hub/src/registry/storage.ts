import { type ThopterRecord, ThopterRecord as ThopterRecordSchema, type TimelineEntry } from "@thopter/protocol";
import type { Logger } from "pino";
import type { Store } from "../store/store.js";
import { Journal } from "./journal.js";
import { appendEntry } from "./timeline.js";

const DOC_PREFIX = "thopters/";
const JOURNAL_PREFIX = "thopter-journal/";
/**
 * Checkpoint writes in flight at once. Few: they share libuv's 4 file-system threads with the journal, whose writes
 * a client is waiting for; a checkpoint can take its time.
 */
const CHECKPOINT_CONCURRENCY = 2;

/** What the store holds per thopter. `rev` counts changes, so replaying the journal never applies one twice. */
export interface StoredThopter {
  record: ThopterRecord;
  reportKeys: string[];
  rev: number;
}

/** One durable change, as the journal keeps it: the record's fields after it, and what it added. */
export interface JournalDelta {
  id: string;
  rev: number;
  record: Omit<ThopterRecord, "timeline">;
  entry?: TimelineEntry;
  reportKey?: string;
}

/**
 * How the registry survives restarts. Durable changes go to a journal (group commit: one store write per batch,
 * whatever the number of thopters); every thopter changed since the last checkpoint is written whole to
 * `thopters/<id>` periodically, after which the journal up to then is dropped. Changes that are not durable
 * (heartbeats, tool events) reach the store with the next checkpoint.
 */
export class RegistryStorage {
  private readonly dirty = new Set<string>();
  /** Thopters whose last durable write failed: memory may hold a change a client was told failed; write eagerly. */
  private readonly failed = new Set<string>();
  private checkpointing: Promise<void> | undefined;

  private constructor(
    private readonly store: Store,
    private readonly journal: Journal<JournalDelta>,
    private readonly log: Logger,
  ) {}

  /** Reads every thopter: its last checkpoint, with the journal's newer changes replayed on top. */
  static async open(store: Store, log: Logger): Promise<{ storage: RegistryStorage; loaded: StoredThopter[] }> {
    const docs = new Map<string, StoredThopter>();
    for (const { key, value } of await store.list<StoredThopter>(DOC_PREFIX)) {
      const parsed = ThopterRecordSchema.safeParse(value?.record);
      if (!parsed.success) {
        log.error({ key, issue: parsed.error.issues[0]?.message }, "unreadable thopter record in store; skipped");
        continue;
      }
      docs.set(parsed.data.id, { record: parsed.data, reportKeys: value.reportKeys ?? [], rev: value.rev ?? 0 });
    }
    const { journal, items } = await Journal.open<JournalDelta>(store, JOURNAL_PREFIX);
    const storage = new RegistryStorage(store, journal, log);
    for (const delta of items) {
      // The next checkpoint must write these thopters before it may drop the journal that holds their changes.
      storage.dirty.add(delta.id);
      const doc = docs.get(delta.id);
      if (!doc || delta.rev <= doc.rev) continue;
      const timeline = doc.record.timeline;
      if (delta.entry) appendEntry(timeline, delta.entry);
      doc.record = { ...delta.record, timeline };
      if (delta.reportKey !== undefined) doc.reportKeys.push(delta.reportKey);
      doc.rev = delta.rev;
    }
    return { storage, loaded: [...docs.values()] };
  }

  /** Writes one thopter whole, now (a new record). */
  async write(doc: StoredThopter): Promise<void> {
    await this.store.put(DOC_PREFIX + doc.record.id, doc);
    this.failed.delete(doc.record.id);
  }

  /** Deletes a thopter's checkpoint; journal entries left for it are skipped on replay (no checkpoint to apply to). */
  async remove(id: string): Promise<void> {
    this.dirty.delete(id);
    this.failed.delete(id);
    await this.store.delete(DOC_PREFIX + id);
  }

  /** Makes one change durable; resolves once it is in the store. */
  async commit(delta: JournalDelta): Promise<void> {
    this.dirty.add(delta.id);
    try {
      await this.journal.append(delta);
      this.failed.delete(delta.id);
    } catch (err) {
      this.failed.add(delta.id);
      throw err;
    }
  }

  /** Notes a change that may wait for the next checkpoint. */
  touch(id: string): void {
    this.dirty.add(id);
  }

  hasFailed(id: string): boolean {
    return this.failed.has(id);
  }

  /** Writes every changed thopter whole, then drops the journal they make redundant. One at a time. */
  checkpoint(snapshot: (id: string) => StoredThopter | undefined): Promise<void> {
    this.checkpointing ??= this.runCheckpoint(snapshot).finally(() => {
      this.checkpointing = undefined;
    });
    return this.checkpointing;
  }

  private async runCheckpoint(snapshot: (id: string) => StoredThopter | undefined): Promise<void> {
    // Every journal batch up to here holds only changes made before now, which the snapshots below include.
    const upTo = this.journal.lastSeq;
    const ids = [...this.dirty];
    this.dirty.clear();
    let failures = 0;
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        const doc = snapshot(id);
        if (!doc) continue;
        try {
          await this.write(doc);
        } catch (err) {
          this.dirty.add(id);
          if (failures++ === 0) this.log.error({ err, thopterId: id }, "registry checkpoint failed; will retry");
        }
      }
    };
    await Promise.all(Array.from({ length: CHECKPOINT_CONCURRENCY }, worker));
    if (failures === 0) await this.journal.truncate(upTo);
  }
}
