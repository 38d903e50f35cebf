/**
 * Work waiting to be done one item at a time, at most one item per owner: a newer item replaces the one its owner
 * still has waiting (it keeps its place). The next item is the one whose owner was served least recently, so an
 * owner that keeps adding work delays another's by at most the one item already in progress.
 */
export class FairQueue<T> {
  private readonly waiting = new Map<string, T>();
  /** When each owner was last served (a take counter); kept only while the queue is busy, so it stays small. */
  private readonly lastServed = new Map<string, number>();
  private takes = 0;

  get size(): number {
    return this.waiting.size;
  }

  put(owner: string, item: T): void {
    this.waiting.set(owner, item);
  }

  take(): T | undefined {
    let next: string | undefined;
    for (const owner of this.waiting.keys()) {
      if (next === undefined || (this.lastServed.get(owner) ?? -1) < (this.lastServed.get(next) ?? -1)) next = owner;
    }
    if (next === undefined) return undefined;
    const item = this.waiting.get(next)!;
    this.waiting.delete(next);
    // Once nothing waits, only the owner being served still needs to yield to newcomers.
    if (this.waiting.size === 0) this.lastServed.clear();
    this.lastServed.set(next, ++this.takes);
    return item;
  }
}
