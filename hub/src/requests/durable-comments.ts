import type { RepoFullName } from "@thopter/protocol";
import type { Logger } from "pino";
import type { GitHubClients } from "../github/clients.js";
import { createComment, hasCommentContaining } from "../github/issues.js";
import type { Store } from "../store/store.js";

/** Where replies are stored: `replies/<encoded source key>` (retention reads them too). */
export const REPLIES_PREFIX = "replies/";

export interface ReplyRecord {
  repo: RepoFullName;
  issueNumber: number;
  body: string;
  createdAt: string;
  posted: boolean;
}

/** The store key of the reply to `sourceKey`. */
export function replyKey(sourceKey: string): string {
  return REPLIES_PREFIX + encodeURIComponent(sourceKey);
}

/** The hidden line that lets the hub find its own reply after a crash instead of posting it twice. */
export function replyMarker(sourceKey: string): string {
  return `<!-- thopter:reply:${sourceKey} -->`;
}

/**
 * Exactly one reply per command source, durably: the reply is stored (pending) before it is posted and marked posted
 * after. A pending reply found later (crash, GitHub outage) is posted only if GitHub does not already show its marker.
 */
export class DurableComments {
  private readonly inFlight = new Set<string>();
  /** Set when a reply could not be posted or recorded; cleared by a `recover()` that leaves nothing behind. */
  private failed = false;

  constructor(
    private readonly store: Store,
    private readonly clients: GitHubClients,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Queues and posts the reply for `sourceKey`; a second call for the same source does nothing. False = retry later. */
  async send(sourceKey: string, repo: RepoFullName, issueNumber: number, text: string): Promise<boolean> {
    const record = this.recordOf(sourceKey, repo, issueNumber, text);
    const ok = await this.exclusive(sourceKey, async () => {
      if (await this.store.putIfAbsent(replyKey(sourceKey), record)) return this.deliver(sourceKey, record, false);
      return this.resume(sourceKey);
    });
    if (!ok) this.failed = true;
    return ok;
  }

  /** True when some reply is left pending and `recover()` has work. */
  get pending(): boolean {
    return this.failed;
  }

  /**
   * Stores the reply pending without posting it, before what earned it is stored: whatever crash follows, a later
   * `send` or the sweep posts it, once. Throws when the store fails.
   */
  async prepare(sourceKey: string, repo: RepoFullName, issueNumber: number, text: string): Promise<void> {
    await this.store.putIfAbsent(replyKey(sourceKey), this.recordOf(sourceKey, repo, issueNumber, text));
  }

  private recordOf(sourceKey: string, repo: RepoFullName, issueNumber: number, text: string): ReplyRecord {
    return {
      repo,
      issueNumber,
      body: `${text}\n\n${replyMarker(sourceKey)}`,
      // Whole seconds, and a second early: the marker search uses `since`, which GitHub compares at second precision.
      createdAt: new Date(Math.floor(this.now().getTime() / 1000) * 1000 - 1000).toISOString(),
      posted: false,
    };
  }

  /** Posts every reply left pending. Returns how many are still pending. */
  async recover(): Promise<number> {
    let left = 0;
    for (const { key } of await this.store.list<ReplyRecord>(REPLIES_PREFIX)) {
      const sourceKey = decodeURIComponent(key.slice(REPLIES_PREFIX.length));
      if (!(await this.exclusive(sourceKey, () => this.resume(sourceKey)))) left++;
    }
    this.failed = left > 0;
    return left;
  }

  /** One attempt per source at a time (webhook and poll may race on the same comment); a concurrent call is a no-op. */
  private async exclusive(sourceKey: string, attempt: () => Promise<boolean>): Promise<boolean> {
    if (this.inFlight.has(sourceKey)) return true;
    this.inFlight.add(sourceKey);
    try {
      return await attempt();
    } finally {
      this.inFlight.delete(sourceKey);
    }
  }

  private async resume(sourceKey: string): Promise<boolean> {
    const record = await this.store.get<ReplyRecord>(replyKey(sourceKey));
    if (!record || record.posted) return true;
    return this.deliver(sourceKey, record, true);
  }

  private async deliver(sourceKey: string, record: ReplyRecord, mayExist: boolean): Promise<boolean> {
    try {
      const client = this.clients.get(record.repo);
      const marker = replyMarker(sourceKey);
      if (!mayExist || !(await hasCommentContaining(client, record.repo, record.createdAt, marker))) {
        await createComment(client, record.repo, record.issueNumber, record.body);
        this.log.info({ key: sourceKey }, "replied on the issue");
      }
    } catch (err) {
      this.log.warn({ key: sourceKey, part: "github", err }, "could not post a reply (GitHub failed); will retry");
      return false;
    }
    try {
      await this.store.put(replyKey(sourceKey), { ...record, posted: true });
      return true;
    } catch (err) {
      // A retry finds the reply's marker on GitHub and only writes again.
      this.log.warn({ key: sourceKey, part: "store", err }, "reply posted but the store write failed; will retry");
      return false;
    }
  }
}
