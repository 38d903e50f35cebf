import { createHash } from "node:crypto";
import { type Command, type CommandSource, sourceKey, ThopterRequest } from "@thopter/protocol";
import type { Store } from "../store/store.js";

const PREFIX = "requests/";

/** A request's id is derived from its source, so storing the same comment twice is the same atomic create. */
export function requestId(key: string): string {
  return `r${createHash("sha256").update(key).digest("hex").slice(0, 16)}`;
}

/** Durable requests: an accepted command is stored here before the hub does anything else about it. */
export class RequestQueue {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date = () => new Date(),
  ) {}

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
    if (await this.store.putIfAbsent(PREFIX + request.id, request)) return { request, created: true };
    return { request: (await this.get(request.id)) ?? request, created: false };
  }

  async get(id: string): Promise<ThopterRequest | undefined> {
    const value = await this.store.get(PREFIX + id);
    return value === undefined ? undefined : ThopterRequest.parse(value);
  }

  async markAcknowledged(id: string): Promise<void> {
    const request = await this.get(id);
    if (!request || request.acknowledged) return;
    await this.store.put(PREFIX + id, { ...request, acknowledged: true, updatedAt: this.now().toISOString() });
  }

  /** Every request, oldest first. */
  async list(): Promise<ThopterRequest[]> {
    const entries = await this.store.list(PREFIX);
    return entries.map((e) => ThopterRequest.parse(e.value)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
}
