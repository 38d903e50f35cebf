import { httpStatus, sourceKey } from "@thopter/protocol";
import type { Logger } from "pino";
import { isAuthorized, isOwnComment } from "../commands/authorize.js";
import { type Catalog, unknownName } from "../commands/catalog.js";
import { extraLinesReply, invalidCommandReply, unauthorizedReply } from "../commands/messages.js";
import { parseCommand } from "../commands/parse.js";
import type { GitHubClients } from "../github/clients.js";
import { getIssueTitle } from "../github/issues.js";
import type { CommandEvent } from "../watcher/event.js";
import type { Acknowledger } from "./acknowledge.js";
import type { DurableComments } from "./durable-comments.js";
import { type RequestQueue, requestId } from "./queue.js";

export interface IntakeDeps {
  queue: RequestQueue;
  replies: DurableComments;
  acknowledger: Acknowledger;
  clients: GitHubClients;
  catalog: () => Promise<Catalog>;
  authorizedUsers?: readonly string[];
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
    const { command } = parsed;
    if (command.kind === "start") {
      const reason = unknownName(command, await this.deps.catalog());
      if (reason !== undefined) return this.refuse(key, event, reason);
    }

    // Seen before (webhook then poll, or a replay): stop before spending a GitHub call on the title.
    if (await this.deps.queue.get(requestId(key))) return "duplicate";
    const title = event.issueTitle ?? (await this.issueTitle(source.repo, source.issueNumber));
    if (title === undefined) {
      log.warn(logCtx, "command ignored: its issue cannot be read (deleted, transferred or not visible to the token)");
      return "ignored";
    }
    // The reply this command earns is stored before the request, so no crash in between can lose it.
    const extra = parsed.ignoredLines > 0 ? extraLinesReply(source.author, parsed.ignoredLines) : undefined;
    if (extra) await this.deps.replies.prepare(key, source.repo, source.issueNumber, extra);
    const { request, created } = await this.deps.queue.create(source, title, command);
    if (!created) return "duplicate";
    log.info({ ...logCtx, request: request.id, command: command.kind }, "request queued");
    // A 👀 or reply that fails stays pending with its sender, which the poll loop's recovery retries.
    await this.deps.acknowledger.acknowledge(request);
    if (extra) await this.reply(key, event, extra);
    return "queued";
  }

  /**
   * The issue's title; undefined when GitHub refuses for good (4xx other than rate limits), so one unreadable issue
   * never wedges the poller. Transient failures (5xx, network, limits after retries) throw and come back next cycle.
   */
  private async issueTitle(repo: string, issueNumber: number): Promise<string | undefined> {
    try {
      return await getIssueTitle(this.deps.clients.get(repo), repo, issueNumber);
    } catch (err) {
      const status = httpStatus(err) ?? 0;
      if (status >= 400 && status < 500 && status !== 403 && status !== 429) return undefined;
      throw err;
    }
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
