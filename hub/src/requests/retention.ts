import type { Logger } from "pino";
import type { LogArchive } from "../logs/archive.js";
import type { Registry } from "../registry/index.js";
import { thopterIdsFor } from "../scheduler/requests.js";
import type { Store } from "../store/store.js";
import { REPLIES_PREFIX, type ReplyRecord, replyKey } from "./durable-comments.js";
import type { RequestQueue } from "./queue.js";
import { OPEN_STATES } from "./request-index.js";

const DAY_MS = 86_400_000;
const MAX_PER_PASS = 1000;

export interface RetentionOptions {
  store: Store;
  queue: RequestQueue;
  /** Absent on an intake-only hub (no thopters there). */
  registry?: Registry;
  /** STORE_RETENTION_DAYS. */
  days: number;
  /** Thopters' archived logs: removed this long after their last write, once the thopter is gone or forgotten. */
  archive?: Pick<LogArchive, "prune">;
  log: Logger;
  /** Between passes that found nothing more to remove. */
  intervalMs?: number;
  /** Removals per pass: a huge backlog is worked off in short passes, `busyDelayMs` apart. */
  maxPerPass?: number;
  busyDelayMs?: number;
  now?: () => Date;
}

/**
 * Keeps the store from growing forever: finished requests, posted replies and gone thopters' records older than
 * STORE_RETENTION_DAYS are removed, at most `maxPerPass` per pass. Nothing exactly-once still depends on is touched:
 * a request not yet finished or 👀'd, with a reply not yet posted, or whose thopters still have records (a record
 * goes once `gone` that long); a reply not yet posted.
 */
export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: RetentionOptions) {}

  /** Runs a pass now, then one every interval (sooner while a backlog remains). */
  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One bounded pass; returns how many entries it removed. */
  async pass(): Promise<number> {
    const { maxPerPass = MAX_PER_PASS, now = () => new Date() } = this.options;
    const cutoff = now().getTime() - this.options.days * DAY_MS;
    const replies = await this.options.store.list<ReplyRecord>(REPLIES_PREFIX);
    const unposted = new Set(replies.filter((r) => !r.value.posted).map((r) => r.key));
    let budget = maxPerPass;
    budget -= await this.removeThopters(cutoff, budget);
    budget -= await this.removeRequests(cutoff, budget, unposted);
    budget -= await this.removeReplies(cutoff, budget, replies);
    return maxPerPass - budget + (await this.removeArchives(now()));
  }

  private async removeArchives(now: Date): Promise<number> {
    const { archive, registry } = this.options;
    if (!archive) return 0;
    const live = (id: string) => {
      const state = registry?.get(id)?.state;
      return state !== undefined && state !== "gone";
    };
    return archive.prune(live, now.getTime());
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const { log, intervalMs = 3_600_000, maxPerPass = MAX_PER_PASS, busyDelayMs = 1000 } = this.options;
      this.running = this.pass().then(
        (removed) => {
          if (removed > 0) log.info({ removed }, "retention removed old finished entries from the store");
          this.schedule(removed >= maxPerPass ? busyDelayMs : intervalMs);
        },
        (err) => {
          log.warn({ err }, "retention pass failed; retrying at the next one");
          this.schedule(intervalMs);
        },
      );
    }, delayMs);
    this.timer.unref();
  }

  private async removeThopters(cutoff: number, budget: number): Promise<number> {
    const { registry } = this.options;
    if (!registry || budget <= 0) return 0;
    const old = registry.inStates(["gone"]).filter((r) => Date.parse(r.stateSince) < cutoff);
    let removed = 0;
    for (const { id } of old.slice(0, budget)) if (await registry.forget(id)) removed++;
    return removed;
  }

  private async removeRequests(cutoff: number, budget: number, unposted: Set<string>): Promise<number> {
    const { queue, registry } = this.options;
    if (budget <= 0) return 0;
    const old: string[] = [];
    for (const request of (await queue.view()).values()) {
      if (old.length >= budget) break;
      if (OPEN_STATES.includes(request.state) || !request.acknowledged) continue;
      if (Date.parse(request.updatedAt) >= cutoff) continue;
      // A reply it earned (extra lines, a failure) is not out yet: keep what it is about.
      if ([request.key, `${request.key}/provision-failed`].some((k) => unposted.has(replyKey(k)))) continue;
      // Its thopters' records still name it (the dashboard, a /thopter stop, a cancelled request's stops).
      if (registry && thopterIdsFor(request).some((id) => registry.get(id) !== undefined)) continue;
      old.push(request.id);
    }
    for (const id of old) await queue.remove(id);
    return old.length;
  }

  private async removeReplies(
    cutoff: number,
    budget: number,
    replies: Array<{ key: string; value: ReplyRecord }>,
  ): Promise<number> {
    const { store } = this.options;
    if (budget <= 0) return 0;
    const old = replies.filter(({ value }) => value.posted && Date.parse(value.createdAt) < cutoff).slice(0, budget);
    for (const { key } of old) await store.delete(key);
    return old.length;
  }
}
