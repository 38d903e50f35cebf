import type { PriceTable, ThopterRecord, ThopterState } from "@thopter/protocol";
import type { Logger } from "pino";
import type { GitHubClients } from "../github/clients.js";
import type { Registry, RegistryChange } from "../registry/index.js";
import type { DurableComments } from "../requests/durable-comments.js";
import { noticeIssue } from "../requests/live-follow-ups.js";
import { DAILY_BUDGET_STOP } from "../scheduler/daily-budget.js";
import type { BudgetTerms } from "./budget-notice.js";
import { type NoticeEvent, renderNotice } from "./comment.js";
import { FairQueue } from "./fair-queue.js";
import type { RepoInfoCache } from "./repo-info.js";
import { type RoundFacts, readRound } from "./round.js";

const ANNOUNCED = ["done", "blocked", "needs_input"] as const;
type Announced = (typeof ANNOUNCED)[number];
/** A failure before the machine ran is the scheduler's to announce (its provision-failed comment). */
const BEFORE_BOOT: readonly (ThopterState | null)[] = [null, "requested", "provisioning"];

export interface NotifierDeps {
  registry: Registry;
  /** The hub's one exactly-once comment path (durable record + hidden marker), shared with command replies. */
  replies: DurableComments;
  clients: GitHubClients;
  /** The hub's cache of repository facts (default branch, …), shared with the scheduler. */
  repoInfo: RepoInfoCache;
  /** HUB_PUBLIC_URL (the base of the dashboard links in comments) and the price table its costs are worked out with. */
  config: { HUB_PUBLIC_URL: string; prices: PriceTable };
  log: Logger;
  /** How long after a failed post the pending notices are retried (30 s by default). */
  retryMs?: number;
  /** On start, reports this recent are announced if a crash kept them from it (24 h by default). */
  recoverWindowMs?: number;
  /** What a budget notice states (MAX_COST_USD, BUDGET_GRACE_MIN). */
  budget?: BudgetTerms;
}

interface Notice {
  key: string;
  record: Readonly<ThopterRecord>;
  event: NoticeEvent;
}

function isAnnounced(state: string | undefined): state is Announced {
  return (ANNOUNCED as readonly string[]).includes(state ?? "");
}

/** The timeline keeps the first 2,000 characters of a summary; the record keeps all of the latest one. */
function fullSummary(record: Readonly<ThopterRecord>, message: string): string {
  const cut = message.endsWith("…") ? message.slice(0, -1) : undefined;
  return cut !== undefined && record.summary?.startsWith(cut) ? record.summary : message;
}

/** The notice one registry change calls for, if any. */
export function noticeFor(change: RegistryChange): Notice | undefined {
  const { record, entry, previousState } = change;
  if (entry?.kind === "report_status" && entry.reason === "budget") {
    // One per thopter, however often the proxy says so (it may restart): the hub's word on what was spent.
    return {
      key: `${record.id}/notice/budget`,
      record,
      event: { kind: "budget", summary: fullSummary(record, entry.message), at: entry.at },
    };
  }
  if (entry?.kind === "state" && entry.state === "stopping" && entry.message.startsWith(DAILY_BUDGET_STOP)) {
    return { key: `${record.id}/notice/daily`, record, event: { kind: "daily", reason: entry.message, at: entry.at } };
  }
  if (entry?.kind === "report_status" && isAnnounced(entry.state)) {
    return {
      key: `${record.id}/notice/${entry.at}/${entry.state}`,
      record,
      event: { kind: "report", state: entry.state, summary: fullSummary(record, entry.message), at: entry.at },
    };
  }
  if (record.state === "failed" && previousState !== "failed" && !BEFORE_BOOT.includes(previousState)) {
    return failedNotice(record);
  }
  return undefined;
}

function failedNotice(record: Readonly<ThopterRecord>): Notice {
  return {
    key: `${record.id}/notice/failed`,
    record,
    event: { kind: "failed", reason: record.stateReason ?? "no reason was given", at: record.stateSince },
  };
}

/** Notices a crash between the registry's write and the notice's own durable record could have lost. */
function recentNotices(record: Readonly<ThopterRecord>, since: number): Notice[] {
  const notices: Notice[] = [];
  for (const entry of record.timeline) {
    if (Date.parse(entry.at) < since) continue;
    const notice = noticeFor({ record, entry, previousState: record.state });
    if (notice && notice.event.kind !== "failed") notices.push(notice);
  }
  const booted = record.timeline.some((e) => e.source === "observer" || e.state === "booting");
  if (record.state === "failed" && booted && Date.parse(record.stateSince) >= since) notices.push(failedNotice(record));
  return notices;
}

/**
 * Posts one comment on the issue for each `report_status` done/blocked/needs_input, and for a thopter that failed
 * after booting. Exactly once, through `DurableComments`: the comment is stored before it is posted and carries a hidden
 * marker that is looked for before any re-post. Posting goes through the repository's Octokit, whose throttling
 * queue makes every comment the hub posts with that token serial and spaced (≥ 1 s, 3 s for notifying writes),
 * and waits out `retry-after` on secondary limits.
 *
 * Notices wait in a FairQueue: a thopter's newer notice replaces its queued one (only its latest state is posted;
 * a replaced one is never stored, so no restart posts it either), and thopters take turns, so one reporting in a
 * loop delays another's notice by at most the one comment already being posted.
 */
export class Notifier {
  private readonly repos: RepoInfoCache;
  private readonly pending = new Set<Promise<void>>();
  private readonly queue = new FairQueue<Notice>();
  /** The one run posting queued notices, while there is one. */
  private draining: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly listener = (change: RegistryChange) => {
    const notice = noticeFor(change);
    if (notice) this.enqueue(notice);
  };

  constructor(private readonly deps: NotifierDeps) {
    this.repos = deps.repoInfo;
  }

  /** Subscribes to the registry, then announces recent reports that a crash left unannounced. */
  async start(): Promise<void> {
    this.deps.registry.on("change", this.listener);
    await this.requeueRecent();
  }

  /** Resolves once every notice started so far has been posted or left for the retry. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.deps.registry.off("change", this.listener);
    clearTimeout(this.retryTimer);
    await this.idle();
  }

  /** Posts every recent notice not posted yet (those posted cost one store read each). */
  private async requeueRecent(): Promise<void> {
    const since = Date.now() - (this.deps.recoverWindowMs ?? 24 * 3_600_000);
    for (const record of this.deps.registry.list()) {
      for (const notice of recentNotices(record, since)) this.queue.put(record.id, notice);
    }
    await this.drain();
  }

  private enqueue(notice: Notice): void {
    this.queue.put(notice.record.id, notice);
    void this.drain();
  }

  /** Starts posting queued notices one at a time unless that is already under way; resolves when the queue is empty. */
  private drain(): Promise<void> {
    if (this.queue.size > 0) this.draining ??= this.track(this.postQueued());
    return this.draining ?? Promise.resolve();
  }

  private async postQueued(): Promise<void> {
    try {
      for (let notice = this.queue.take(); notice; notice = this.queue.take()) await this.post(notice);
    } finally {
      // Cleared in the same step that found the queue empty, so a notice queued after it starts a new run.
      this.draining = undefined;
    }
  }

  private track(work: Promise<void>): Promise<void> {
    this.pending.add(work);
    return work.finally(() => this.pending.delete(work));
  }

  private async post(notice: Notice): Promise<void> {
    const { replies, config, log } = this.deps;
    const { record, key } = notice;
    if (!this.deps.clients.has(record.repo)) {
      // Configuration changed since the thopter started: retrying would never help.
      log.warn({ thopterId: record.id, repo: record.repo }, "no GitHub token for this repository; notice not posted");
      return;
    }
    try {
      const repo = await this.repos.get(record.repo);
      const links = {
        repoHtmlUrl: repo.htmlUrl,
        defaultBranch: repo.defaultBranch,
        hubUrl: config.HUB_PUBLIC_URL.replace(/\/+$/, ""),
      };
      // Usage as of now: reports that came in while the notice waited count too.
      const usage = this.deps.registry.get(record.id)?.usage ?? record.usage;
      const round = await this.roundOf(record, notice.event);
      const text = renderNotice({ ...record, usage }, notice.event, links, config.prices, this.deps.budget, round);
      if (await replies.send(key, record.repo, noticeIssue(record), text)) return;
      log.warn({ thopterId: record.id, key }, "notice not posted yet; will retry");
    } catch (err) {
      log.warn({ thopterId: record.id, key, err }, "could not post a notice; will retry");
    }
    this.scheduleSweep();
  }

  /**
   * A follow-up's report says what its round changed, read when it is posted (the head's checks as of then). Not
   * knowing is no reason to withhold the notice: an unreadable PR leaves those lines out.
   */
  private async roundOf(record: Readonly<ThopterRecord>, event: NoticeEvent): Promise<RoundFacts | undefined> {
    if (!record.startTip || event.kind !== "report") return undefined;
    try {
      return await readRound(this.deps.clients.get(record.repo), record.repo, record.issueNumber, record.startTip);
    } catch (err) {
      this.deps.log.warn({ thopterId: record.id, err }, "could not read the round's commits and checks; left out");
      return undefined;
    }
  }

  /** One retry timer for all notices: requeueRecent finds every one still pending. */
  private scheduleSweep(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) void this.track(this.requeueRecent());
    }, this.deps.retryMs ?? 30_000);
    this.retryTimer.unref();
  }
}
