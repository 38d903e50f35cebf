import {
  MAX_FOLLOW_UPS_PER_ANSWER,
  type PendingFollowUp,
  type StoredFollowUp,
  type ThopterRecord,
  type ThopterRequest,
  typeableText,
} from "@thopter/protocol";
import type { Logger } from "pino";
import type { Registry } from "../registry/index.js";
import type { ProvisioningNotices } from "../scheduler/provisioning-notices.js";
import type { DurableComments } from "./durable-comments.js";
import type { RequestQueue } from "./queue.js";

/**
 * What Claude reads as its new prompt. It starts with fixed words, so no comment can make it a slash command
 * (`/`), a shell escape (`!`) or a memory note (`#`) in Claude's prompt; the comment's own text is made typeable.
 */
export function followUpPrompt(request: FollowUpRequest): string {
  const { author } = request.source;
  const pull = request.followUp?.pullNumber;
  const instructions = request.command.kind === "start" ? request.command.instructions : "";
  return typeableText(
    `Follow-up from @${author} on pull request #${pull}: ${instructions || "(no text)"} — ` +
      `read it with get_pull_request (pull_number ${pull}), address it on this branch, reply in each review ` +
      "comment's thread, push, then report_status again.",
  );
}

/** What of a request its follow-up needs (known before the request is stored). */
export type FollowUpRequest = Pick<ThopterRequest, "id" | "source" | "command" | "followUp" | "createdAt">;

/** The follow-ups the observer has not confirmed yet, oldest first, as many as one answer carries. */
export function pendingFollowUps(record: Readonly<ThopterRecord> | undefined): PendingFollowUp[] {
  return (record?.followUps ?? [])
    .filter((f) => f.deliveredAt === undefined)
    .slice(0, MAX_FOLLOW_UPS_PER_ANSWER)
    .map(({ id, text }) => ({ id, text }));
}

/** Where the thopter's notices go: the PR of its latest delivered follow-up (results go where the request came from). */
export function noticeIssue(record: Readonly<ThopterRecord>): number {
  const delivered = (record.followUps ?? []).filter((f) => f.deliveredAt !== undefined);
  return delivered.at(-1)?.pullNumber ?? record.issueNumber;
}

/** The record's follow-ups with `ids` marked delivered at `at` (undefined when that changes nothing). */
export function markDelivered(
  followUps: readonly StoredFollowUp[] | undefined,
  ids: readonly string[],
  at: string,
): StoredFollowUp[] | undefined {
  if (!followUps?.some((f) => f.deliveredAt === undefined && ids.includes(f.id))) return undefined;
  return followUps.map((f) => (f.deliveredAt === undefined && ids.includes(f.id) ? { ...f, deliveredAt: at } : f));
}

/**
 * Follow-ups for live thopters: `store` keeps one on the thopter's record (durably, before the 👀; the collector's
 * answers carry it from there), and the 🚀 goes on the command once the observer confirms it typed it. A thopter
 * that ends first leaves its undelivered follow-ups a reply saying so: every accepted command ends in 🚀 or a reply.
 */
export class LiveFollowUps {
  /** Follow-ups whose 🚀 is out in this run: heartbeats must not read the queue again for them. */
  private readonly announced = new Set<string>();

  constructor(
    private readonly deps: {
      registry: Registry;
      queue: RequestQueue;
      notices: ProvisioningNotices;
      replies: DurableComments;
      log: Logger;
    },
  ) {
    deps.registry.on("change", ({ record }) => void this.announce(record));
  }

  /** Idempotent per request: a replayed command stores nothing twice. */
  async store(thopterId: string, request: FollowUpRequest): Promise<void> {
    const record = this.deps.registry.get(thopterId);
    if (!record || record.followUps?.some((f) => f.id === request.id)) return;
    const followUp: StoredFollowUp = {
      id: request.id,
      text: followUpPrompt(request),
      pullNumber: request.followUp?.pullNumber ?? request.source.issueNumber,
      requestedAt: request.createdAt,
    };
    await this.deps.registry.update(thopterId, {
      patch: { followUps: [...(record.followUps ?? []), followUp] },
      entry: { source: "hub", kind: "follow-up", message: `follow-up from @${request.source.author} waits for Claude` },
      durable: true,
    });
    this.deps.log.info({ thopterId, request: request.id }, "follow-up stored for the live thopter");
  }

  /**
   * 🚀 on each command whose follow-up was delivered and not yet announced; the 🚀 before the reason that says so,
   * so a crash in between repeats it (GitHub keeps one 🚀 per user) rather than loses it.
   */
  private async announce(record: Readonly<ThopterRecord>): Promise<void> {
    if (ENDED.includes(record.state)) return this.orphaned(record);
    for (const followUp of record.followUps ?? []) {
      if (followUp.deliveredAt === undefined || this.announced.has(followUp.id)) continue;
      this.announced.add(followUp.id);
      const request = await this.deps.queue.get(followUp.id);
      if (!request || request.stateReason === DELIVERED) continue;
      await this.deps.notices.provisioned(request);
      await this.deps.queue.update(request.id, { stateReason: DELIVERED });
      this.deps.log.info({ thopterId: record.id, request: request.id }, "follow-up delivered to Claude");
    }
  }

  /** A reply on the PR for each follow-up the ended thopter never got; the request fails with that reason. */
  private async orphaned(record: Readonly<ThopterRecord>): Promise<void> {
    for (const followUp of record.followUps ?? []) {
      if (followUp.deliveredAt !== undefined || this.announced.has(followUp.id)) continue;
      this.announced.add(followUp.id);
      const request = await this.deps.queue.get(followUp.id);
      if (!request || request.state === "failed") continue;
      const reason = `thopter \`${record.id}\` ended (${record.state}) before its Claude session got these instructions`;
      const text = `@${request.source.author}, ${reason}. Write \`/thopter …\` here again to start a new thopter on this branch.`;
      if (!(await this.deps.replies.send(`${request.key}/undelivered`, record.repo, followUp.pullNumber, text))) {
        this.deps.log.warn(
          { request: request.id },
          "reply on an undelivered follow-up not posted yet; the sweep retries it",
        );
      }
      await this.deps.queue.update(request.id, { state: "failed", stateReason: reason });
    }
  }
}

/** States in which a thopter will never take a follow-up again. */
const ENDED = ["failed", "gone"];

/** A follow-up request's reason once its text is in Claude's session. */
export const DELIVERED = "delivered to the live thopter's Claude session";
/** A follow-up request's reason while it waits for the thopter's observer. */
export const WAITING = "waits for the live thopter's observer";
