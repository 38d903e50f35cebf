import { type FollowUp, httpStatus, sourceKey, type ThopterRecord } from "@thopter/protocol";
import type { Logger } from "pino";
import { isAuthorized, isOwnComment } from "../commands/authorize.js";
import { type Catalog, unknownName } from "../commands/catalog.js";
import { extraLinesReply, invalidCommandReply, pullRefusedReply, unauthorizedReply } from "../commands/messages.js";
import { parseCommand } from "../commands/parse.js";
import type { GitHubClients } from "../github/clients.js";
import { getIssueInfo } from "../github/issues.js";
import type { CommandEvent } from "../watcher/event.js";
import type { Acknowledger } from "./acknowledge.js";
import type { DurableComments } from "./durable-comments.js";
import type { LiveFollowUps } from "./live-follow-ups.js";
import { checkPullCommand, holdingThopter } from "./pull-commands.js";
import { type RequestQueue, requestId } from "./queue.js";

export interface IntakeDeps {
  queue: RequestQueue;
  replies: DurableComments;
  acknowledger: Acknowledger;
  clients: GitHubClients;
  catalog: () => Promise<Catalog>;
  authorizedUsers?: readonly string[];
  /** The hub's thopters (a command on a PR must not start a second writer on its branch). */
  thopters?: () => readonly Readonly<ThopterRecord>[];
  /** Where a follow-up for a live thopter waits for its observer. */
  followUps?: LiveFollowUps;
  /** STORE_RETENTION_DAYS in ms: an older command is ignored, as retention may have removed its request already. */
  maxCommandAgeMs?: number;
  log: Logger;
}

export type IntakeOutcome = "ignored" | "refused" | "queued" | "duplicate";

/**
 * The one pipeline both watchers feed: parse → authorize → check names → store the request → 👀.
 * Every step is idempotent per source (comment or issue body), so an event seen twice (poll and webhook, or a replay
 * after a crash) changes nothing the second time. Throws only when GitHub or the store failed before the request
 * was stored; the watcher then keeps its cursor so the event comes back.
 */
export class Intake {
  constructor(private readonly deps: IntakeDeps) {}

  async handle(event: CommandEvent): Promise<IntakeOutcome> {
    const { source } = event;
    const { log, clients } = this.deps;
    const parsed = parseCommand(event.body);
    if (parsed.kind === "none") return "ignored";
    if (Date.now() - Date.parse(source.createdAt) > (this.deps.maxCommandAgeMs ?? Number.POSITIVE_INFINITY)) {
      log.info(
        { key: sourceKey(source) },
        "command ignored: older than STORE_RETENTION_DAYS (a redelivered or replayed event)",
      );
      return "ignored";
    }
    if (isOwnComment(source, await clients.botLogin(source.repo))) return "ignored";
    const key = sourceKey(source);
    const logCtx = { key, author: source.author, via: source.via };

    if (!isAuthorized(source, this.deps.authorizedUsers)) {
      log.info({ ...logCtx, association: source.authorAssociation }, "command refused: author not authorized");
      await this.reply(key, event, unauthorizedReply(source.author));
      return "refused";
    }
    if (parsed.kind === "refused") return this.refuse(key, event, parsed.reason);
    let { command } = parsed;
    if (command.kind === "start") {
      const reason = unknownName(command, await this.deps.catalog());
      if (reason !== undefined) return this.refuse(key, event, reason);
    }

    // Seen before (webhook then poll, or a replay): stop before spending a GitHub call on the title.
    if (await this.deps.queue.get(requestId(key))) return "duplicate";
    const target = await this.target(event);
    if (target === undefined) {
      log.warn(logCtx, "command ignored: its issue cannot be read (deleted, transferred or not visible to the token)");
      return "ignored";
    }
    let followUp: FollowUp | undefined;
    let deliverTo: string | undefined;
    if (target.onPull) {
      const { repo, issueNumber } = source;
      const holder = (branch: string) => holdingThopter(this.deps.thopters?.() ?? [], repo, branch);
      const verdict = await orGone(checkPullCommand(clients.get(repo), repo, issueNumber, command, holder));
      if (verdict === undefined) {
        log.warn(logCtx, "command ignored: its pull request cannot be read (deleted or not visible to the token)");
        return "ignored";
      }
      if ("refused" in verdict) {
        log.info({ ...logCtx, reason: verdict.refused }, "command on a pull request refused");
        await this.reply(key, event, pullRefusedReply(source.author, verdict.refused));
        return "refused";
      }
      followUp = verdict.followUp;
      deliverTo = verdict.deliverTo;
      // A PR command without -p reads the review prompt, when the hub has one.
      if (
        command.kind === "start" &&
        command.prompt === "default" &&
        (await this.deps.catalog()).prompts.includes("review")
      )
        command = { ...command, prompt: "review" };
    }
    const title = target.title;
    // The reply this command earns is stored before the request, so no crash in between can lose it.
    const extra = parsed.ignoredLines > 0 ? extraLinesReply(source.author, parsed.ignoredLines) : undefined;
    if (extra) await this.deps.replies.prepare(key, source.repo, source.issueNumber, extra);
    if (deliverTo) {
      const id = requestId(key);
      await this.deps.followUps?.store(deliverTo, { id, source, command, followUp, createdAt: source.createdAt });
    }
    const { request, created } = await this.deps.queue.create(source, title, command, followUp, deliverTo);
    if (!created) return "duplicate";
    log.info({ ...logCtx, request: request.id, command: command.kind }, "request queued");
    // A 👀 or reply that fails stays pending with its sender, which the poll loop's recovery retries.
    await this.deps.acknowledger.acknowledge(request);
    if (extra) await this.reply(key, event, extra);
    return "queued";
  }

  /** The issue's title and whether it is a pull request (from the event when it says, else from GitHub). */
  private async target(event: CommandEvent): Promise<{ title: string; onPull: boolean } | undefined> {
    const { repo, issueNumber } = event.source;
    if (event.issueTitle !== undefined && event.onPull !== undefined)
      return { title: event.issueTitle, onPull: event.onPull };
    return orGone(getIssueInfo(this.deps.clients.get(repo), repo, issueNumber));
  }

  private async refuse(key: string, event: CommandEvent, reason: string): Promise<IntakeOutcome> {
    this.deps.log.info({ key, author: event.source.author, reason }, "command refused: invalid");
    await this.reply(key, event, invalidCommandReply(event.source.author, reason, await this.deps.catalog()));
    return "refused";
  }

  private async reply(key: string, event: CommandEvent, text: string): Promise<void> {
    await this.deps.replies.send(key, event.source.repo, event.source.issueNumber, text);
  }
}

/**
 * Undefined when GitHub refuses for good (4xx other than rate limits), so one unreadable issue or pull request never
 * wedges the poller; transient failures (5xx, network, limits after retries) throw and come back next cycle.
 */
async function orGone<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    const status = httpStatus(err) ?? 0;
    if (status >= 400 && status < 500 && status !== 403 && status !== 429) return undefined;
    throw err;
  }
}
