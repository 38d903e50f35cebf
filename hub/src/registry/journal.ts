import type { Store } from "../store/store.js";

interface Waiter<T> {
  item: T;
  resolve(): void;
  reject(err: unknown): void;
}

const SEQ_DIGITS = 12;

/**
 * An append-only log over the store with group commit: items appended while one batch is being written go out
 * together in the next one, so many small durable changes cost one store write per batch, not one each.
 * Batches are keys `<prefix><seq>` (zero-padded, so `list` returns them in order); `truncate` drops those that a
 * checkpoint has made redundant.
 */
export class Journal<T> {
  private pending: Waiter<T>[] = [];
  private draining = false;
  private writing: number | undefined;
  /** Seqs of batches in the store (or being written), oldest first. */
  private readonly seqs: number[];
  private nextSeq: number;

  private constructor(
    private readonly store: Store,
    private readonly prefix: string,
    existing: number[],
  ) {
    this.seqs = existing;
    this.nextSeq = (existing.at(-1) ?? 0) + 1;
  }

  /** Opens the journal and returns what it holds, oldest item first. */
  static async open<T>(store: Store, prefix: string): Promise<{ journal: Journal<T>; items: T[] }> {
    const batches = await store.list<T[]>(prefix);
    const journal = new Journal<T>(
      store,
      prefix,
      batches.map((b) => Number(b.key.slice(prefix.length))),
    );
    return { journal, items: batches.flatMap((b) => b.value) };
  }

  /** Resolves once the item is in the store. */
  append(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  /** The seq of the newest batch that has started to be written: every item appended before now is in it or older. */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** Deletes every batch up to and including `seq`, except one still being written (the next truncate gets it). */
  async truncate(seq: number): Promise<void> {
    while (this.seqs.length > 0 && this.seqs[0]! <= seq && this.seqs[0] !== this.writing) {
      await this.store.delete(this.key(this.seqs[0]!));
      this.seqs.shift();
    }
  }

  private key(seq: number): string {
    return this.prefix + String(seq).padStart(SEQ_DIGITS, "0");
  }

  private async drain(): Promise<void> {
    this.draining = true;
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      const seq = this.nextSeq++;
      this.seqs.push(seq);
      this.writing = seq;
      try {
        await this.store.put(
          this.key(seq),
          batch.map((w) => w.item),
        );
        for (const w of batch) w.resolve();
      } catch (err) {
        this.seqs.splice(this.seqs.indexOf(seq), 1);
        for (const w of batch) w.reject(err);
      } finally {
        this.writing = undefined;
      }
    }
    this.draining = false;
  }
}
