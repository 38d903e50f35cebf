import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { type Command, type CommandSource, type FollowUp, sourceKey, ThopterRequest } from "@thopter/protocol";
import type { Store } from "../store/store.js";
import { StoreLostDataError } from "../store/watched.js";
import { WAITING } from "./live-follow-ups.js";
import { RequestIndex } from "./request-index.js";

const PREFIX = "requests/";

/** A request's id is derived from its source, so storing the same comment twice is the same atomic create. */
export function requestId(key: string): string {
  return `r${createHash("sha256").update(key).digest("hex").slice(0, 16)}`;
}

interface QueueEvents {
  /** A new request is stored (its 👀 is not posted yet). */
  created: [request: ThopterRequest];
  /** A request's 👀 is posted (or its comment is gone). */
  acknowledged: [id: string];
  /** A request this queue stored is gone from the store: the store lost data (see `WatchedStore.markLost`). */
  lost: [error: StoreLostDataError];
}

/**
 * Durable requests: an accepted command is stored here before the hub does anything else about it. Its events let the
 * scheduler start at once rather than at its next look at the queue.
 *
 * The first read loads every stored request into an index; later ones answer from memory, kept current by this
 * queue's own writes (one hub owns its store). The scheduler reads only the open requests and one issue's stops (`view`);
 * retention removes finished ones (`remove`), so neither memory nor a pass grows with history.
 */
export class RequestQueue extends EventEmitter<QueueEvents> {
  /** The change under way on each request (see `change`). */
  private readonly changing = new Map<string, Promise<boolean>>();
  /** Every request, once the first read has loaded them. */
  private known: Promise<RequestIndex> | undefined;

  constructor(
    private readonly store: Store,
    private readonly now: () => Date = () => new Date(),
  ) {
    super();
  }

  /**
   * Stores a new `queued` request; `created` is false when this source already made one (nothing is changed). A
   * follow-up for a live thopter (`deliverTo`) is stored as already placed on it: the scheduler starts nothing.
   */
  async create(
    source: CommandSource,
    issueTitle: string,
    command: Command,
    followUp?: FollowUp,
    deliverTo?: string,
  ): Promise<{ request: ThopterRequest; created: boolean }> {
    const key = sourceKey(source);
    const at = this.now().toISOString();
    const request = ThopterRequest.parse({
      id: requestId(key),
      key,
      source,
      issueTitle,
      command,
      state: deliverTo ? "provisioned" : "queued",
      ...(deliverTo ? { stateReason: WAITING } : {}),
      acknowledged: false,
      createdAt: at,
      updatedAt: at,
      thopterIds: deliverTo ? [deliverTo] : [],
      ...(followUp ? { followUp } : {}),
    });
    if (await this.store.putIfAbsent(PREFIX + request.id, request)) {
      this.remember(request);
      this.emit("created", request);
      return { request, created: true };
    }
    return { request: (await this.get(request.id)) ?? request, created: false };
  }

  async get(id: string): Promise<ThopterRequest | undefined> {
    const value = await this.store.get(PREFIX + id);
    return value === undefined ? undefined : ThopterRequest.parse(value);
  }

  async markAcknowledged(id: string): Promise<void> {
    const changed = await this.change(id, (request) => (request.acknowledged ? undefined : { acknowledged: true }));
    if (changed) this.emit("acknowledged", id);
  }

  /** Sets a request's scheduling fields (state, reason, thopter ids), keeping everything else as stored. */
  async update(
    id: string,
    patch: Partial<Pick<ThopterRequest, "state" | "stateReason" | "thopterIds">>,
  ): Promise<void> {
    await this.change(id, () => patch);
  }

  /**
   * Read, patch, write one request, one change at a time per request: the 👀 and the scheduler change the same
   * request at about the same moment, and neither may undo the other. True when something was written.
   */
  private change(
    id: string,
    patchOf: (request: ThopterRequest) => Partial<ThopterRequest> | undefined,
  ): Promise<boolean> {
    const previous = this.changing.get(id) ?? Promise.resolve(false);
    const next = previous
      .catch(() => false)
      .then(async () => {
        const request = await this.get(id);
        if (!request) {
          const error = new StoreLostDataError(`request ${id} is gone from the store although this hub stored it`);
          this.emit("lost", error);
          throw error;
        }
        const patch = patchOf(request);
        if (!patch) return false;
        const changed = ThopterRequest.parse({ ...request, ...patch, updatedAt: this.now().toISOString() });
        await this.store.put(PREFIX + id, changed);
        this.remember(changed);
        return true;
      });
    this.changing.set(id, next);
    const forget = () => {
      if (this.changing.get(id) === next) this.changing.delete(id);
    };
    next.then(forget, forget);
    return next;
  }

  /** Drops what `list` remembers (the store lost data): the next `list` reads the store, or fails as it does. */
  forget(): void {
    this.known = undefined;
  }

  /** Every request in the order its command was written on GitHub (copies: changing one changes nothing stored). */
  async list(): Promise<ThopterRequest[]> {
    return (await this.view()).all();
  }

  /** The in-memory index, loaded on first use; reads from it are copies. */
  view(): Promise<Readonly<Pick<RequestIndex, "open" | "stopsOnIssue" | "get" | "all" | "values">>> {
    this.known ??= this.readAll();
    return this.known;
  }

  /** Deletes a request from the store and memory (retention: only finished ones, see `retention.ts`). */
  async remove(id: string): Promise<void> {
    await this.store.delete(PREFIX + id);
    (await this.known)?.delete(id);
  }

  private readAll(): Promise<RequestIndex> {
    const reading = this.store.list(PREFIX).then((entries) => {
      const index = new RequestIndex();
      for (const e of entries) index.set(ThopterRequest.parse(e.value));
      return index;
    });
    // A failed read is tried again by the next list.
    reading.catch(() => {
      if (this.known === reading) this.known = undefined;
    });
    return reading;
  }

  /** A stored write, into memory once the first read is in (after it, so the read never overwrites it). */
  private remember(request: ThopterRequest): void {
    void this.known?.then(
      (known) => known.set(request),
      () => {},
    );
  }
}
