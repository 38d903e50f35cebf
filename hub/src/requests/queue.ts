import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { type Command, type CommandSource, sourceKey, ThopterRequest } from "@thopter/protocol";
import type { Store } from "../store/store.js";

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
}

/**
 * Durable requests: an accepted command is stored here before the hub does anything else about it. Its events let the
 * scheduler start at once rather than at its next look at the queue.
 */
export class RequestQueue extends EventEmitter<QueueEvents> {
  /** The change under way on each request (see `change`). */
  private readonly changing = new Map<string, Promise<boolean>>();

  constructor(
    private readonly store: Store,
    private readonly now: () => Date = () => new Date(),
  ) {
    super();
  }

  /** Stores a new `queued` request; `created` is false when this source already made one (nothing is changed). */
  async create(
    source: CommandSource,
    issueTitle: string,
    command: Command,
  ): Promise<{ request: ThopterRequest; created: boolean }> {
    const key = sourceKey(source);
    const at = this.now().toISOString();
    const request = ThopterRequest.parse({
      id: requestId(key),
      key,
      source,
      issueTitle,
      command,
      state: "queued",
      acknowledged: false,
      createdAt: at,
      updatedAt: at,
      thopterIds: [],
    });
    if (await this.store.putIfAbsent(PREFIX + request.id, request)) {
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
        const patch = request && patchOf(request);
        if (!request || !patch) return false;
        await this.store.put(PREFIX + id, { ...request, ...patch, updatedAt: this.now().toISOString() });
        return true;
      });
    this.changing.set(id, next);
    const forget = () => {
      if (this.changing.get(id) === next) this.changing.delete(id);
    };
    next.then(forget, forget);
    return next;
  }

  /** Every request, oldest first. */
  async list(): Promise<ThopterRequest[]> {
    const entries = await this.store.list(PREFIX);
    return entries.map((e) => ThopterRequest.parse(e.value)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
}
