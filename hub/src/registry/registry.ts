import { EventEmitter } from "node:events";
import {
  canTransition,
  type MachineRef,
  type ThopterRecord,
  ThopterRecord as ThopterRecordSchema,
  type ThopterState,
  type TimelineEntry,
} from "@thopter/protocol";
import type { Logger } from "pino";
import type { Store } from "../store/store.js";
import { RegistryStorage, type StoredThopter } from "./storage.js";
import { appendEntry } from "./timeline.js";

/** Idempotency keys remembered per thopter: far more than a broker outbox ever has in flight. */
export const REPORT_KEY_LIMIT = 1_000;

/** Emitted as `change` after every mutation (the dashboard and the notifier subscribe). */
export interface RegistryChange {
  /** The live record: read what you need in the listener, later changes show through it. */
  record: Readonly<ThopterRecord>;
  /** The state before this change; equal to `record.state` when only data or the timeline changed. */
  previousState: ThopterState | null;
  entry?: TimelineEntry;
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly thopterId: string,
    readonly from: ThopterState,
    readonly to: ThopterState,
  ) {
    super(`thopter ${thopterId} cannot go from ${from} to ${to}`);
  }
}

export class UnknownThopterError extends Error {
  constructor(readonly thopterId: string) {
    super(`no thopter ${thopterId}`);
  }
}

/** One change to a thopter. Anything that changes state, or carries an idempotency key, is written before it resolves. */
export interface ThopterUpdate {
  state?: ThopterState;
  stateReason?: string;
  /** For reports: a transition the state machine forbids is skipped instead of thrown (the entry is still kept). */
  onlyIfAllowed?: boolean;
  patch?: Partial<
    Pick<
      ThopterRecord,
      "machine" | "lastReportAt" | "summary" | "pullRequestUrl" | "pushedAt" | "usage" | "budgetSpentAt" | "followUps"
    >
  >;
  entry?: Omit<TimelineEntry, "at"> & { at?: string };
  /** A broker report's key: a key seen before makes the whole update a no-op. */
  idempotencyKey?: string;
  /** Write now even though nothing important changed. */
  durable?: boolean;
}

export interface UpdateResult {
  record: Readonly<ThopterRecord>;
  /** The state changed. */
  changed: boolean;
  /** The idempotency key had been seen: nothing was applied. */
  duplicate: boolean;
}

export interface RegistryOptions {
  /** How often changes that were not written through (heartbeats, tool events) reach the store. */
  checkpointMs?: number;
  now?: () => Date;
}

export interface RegistryEvents {
  change: [RegistryChange];
}

/**
 * The thopter records: an in-memory index for reads, written through to the store, with the lifecycle state
 * machine from the protocol enforced on every transition. Records handed out are live objects: read, never mutate.
 */
export class Registry extends EventEmitter<RegistryEvents> {
  private readonly records = new Map<string, ThopterRecord>();
  private readonly reportKeys = new Map<string, Set<string>>();
  /** Changes per thopter, so the journal replays each at most once. */
  private readonly revs = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => Date;

  private constructor(
    private readonly storage: RegistryStorage,
    loaded: StoredThopter[],
    options: RegistryOptions,
  ) {
    super();
    this.now = options.now ?? (() => new Date());
    for (const doc of loaded) this.load(doc);
    this.timer = setInterval(() => void this.checkpoint(), options.checkpointMs ?? 10_000);
    this.timer.unref();
  }

  /** Loads every record from the store. Records that fail the schema are logged and skipped, not fatal. */
  static async open(store: Store, log: Logger, options: RegistryOptions = {}): Promise<Registry> {
    const { storage, loaded } = await RegistryStorage.open(store, log);
    return new Registry(storage, loaded, options);
  }

  get(id: string): Readonly<ThopterRecord> | undefined {
    return this.records.get(id);
  }

  list(): Readonly<ThopterRecord>[] {
    return [...this.records.values()];
  }

  /** Thopters of one issue that still have (or may get) a machine. */
  forIssue(repo: string, issueNumber: number): Readonly<ThopterRecord>[] {
    return this.list().filter((r) => r.repo === repo && r.issueNumber === issueNumber && r.state !== "gone");
  }

  inStates(states: readonly ThopterState[]): Readonly<ThopterRecord>[] {
    return this.list().filter((r) => states.includes(r.state));
  }

  /** Adds a new record (durably). Fails if the id exists: ids are never reused. */
  async create(
    fields: Omit<ThopterRecord, "createdAt" | "stateSince" | "timeline"> & { timeline?: TimelineEntry[] },
    message = "thopter requested",
  ): Promise<Readonly<ThopterRecord>> {
    if (this.records.has(fields.id)) throw new Error(`thopter ${fields.id} already exists`);
    const at = this.now().toISOString();
    const entry: TimelineEntry = { at, source: "hub", kind: "created", state: fields.state, message };
    const record = ThopterRecordSchema.parse({
      ...fields,
      createdAt: at,
      stateSince: at,
      timeline: [...(fields.timeline ?? []), entry],
    });
    this.load({ record, reportKeys: [], rev: 0 });
    await this.storage.write(this.stored(record.id)!);
    this.emit("change", { record, previousState: null, entry });
    return record;
  }

  /** A hub-initiated state change; throws IllegalTransitionError if the state machine forbids it. */
  transition(id: string, to: ThopterState, reason: string, patch?: ThopterUpdate["patch"]): Promise<UpdateResult> {
    return this.update(id, { state: to, stateReason: reason, patch });
  }

  appendTimeline(id: string, entry: NonNullable<ThopterUpdate["entry"]>, durable = false): Promise<UpdateResult> {
    return this.update(id, { entry, durable });
  }

  async update(id: string, change: ThopterUpdate): Promise<UpdateResult> {
    const record = this.records.get(id);
    if (!record) throw new UnknownThopterError(id);
    const keys = this.reportKeys.get(id)!;
    if (change.idempotencyKey !== undefined && keys.has(change.idempotencyKey)) {
      // Seen, but maybe only in memory: its first attempt was refused because the write failed.
      if (this.storage.hasFailed(id)) await this.commit(record, undefined, change.idempotencyKey);
      return { record, changed: false, duplicate: true };
    }
    const previousState = record.state;
    const to = change.state;
    const allowed = to === undefined || canTransition(previousState, to);
    if (!allowed && !change.onlyIfAllowed) throw new IllegalTransitionError(id, previousState, to);
    const changed = to !== undefined && allowed && to !== previousState;

    const at = this.now().toISOString();
    Object.assign(record, change.patch);
    if (changed) {
      record.state = to;
      record.stateSince = at;
      if (change.stateReason === undefined) delete record.stateReason;
      else record.stateReason = change.stateReason;
    }
    let entry: TimelineEntry | undefined;
    if (change.entry) entry = { ...change.entry, at: change.entry.at ?? at };
    else if (changed) entry = { at, source: "hub", kind: "state", state: to, message: change.stateReason ?? to };
    if (entry) appendEntry(record.timeline, entry);
    if (change.idempotencyKey !== undefined) {
      keys.add(change.idempotencyKey);
      if (keys.size > REPORT_KEY_LIMIT) keys.delete(keys.values().next().value!);
    }
    this.revs.set(id, (this.revs.get(id) ?? 0) + 1);

    const durable = changed || change.idempotencyKey !== undefined || change.durable || this.storage.hasFailed(id);
    if (durable) await this.commit(record, entry, change.idempotencyKey);
    else this.storage.touch(id);
    this.emit("change", { record, previousState, entry });
    return { record, changed, duplicate: false };
  }

  /** Attaches (or replaces) the machine of a record without changing its state. */
  setMachine(id: string, machine: MachineRef | null, message: string): Promise<UpdateResult> {
    return this.update(id, { patch: { machine }, entry: { source: "hub", kind: "machine", message }, durable: true });
  }

  /** Removes a gone thopter's record from memory and the store (retention); false if it is not gone. */
  async forget(id: string): Promise<boolean> {
    if (this.records.get(id)?.state !== "gone") return false;
    this.records.delete(id);
    this.reportKeys.delete(id);
    this.revs.delete(id);
    await this.storage.remove(id);
    return true;
  }

  /** Writes every thopter changed since the last checkpoint (the journal then starts afresh). */
  checkpoint(): Promise<void> {
    return this.storage.checkpoint((id) => this.stored(id));
  }

  /** Writes every pending change and stops the periodic checkpoint. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.checkpoint();
  }

  private load(doc: StoredThopter): void {
    this.records.set(doc.record.id, doc.record);
    this.reportKeys.set(doc.record.id, new Set(doc.reportKeys));
    this.revs.set(doc.record.id, doc.rev);
  }

  private commit(record: ThopterRecord, entry?: TimelineEntry, reportKey?: string): Promise<void> {
    const { timeline: _, ...fields } = record;
    return this.storage.commit({ id: record.id, rev: this.revs.get(record.id)!, record: fields, entry, reportKey });
  }

  private stored(id: string): StoredThopter | undefined {
    const record = this.records.get(id);
    if (!record) return undefined;
    return { record, reportKeys: [...this.reportKeys.get(id)!], rev: this.revs.get(id)! };
  }
}
