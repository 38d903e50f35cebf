import type { RepoFullName } from "@thopter/protocol";
import type { Logger } from "pino";
import { splitRepo } from "../github/issues.js";
import { type GitHubClient, isGone, isNotModified } from "../github/octokit.js";
import type { HubMetrics } from "../metrics.js";
import type { Store } from "../store/store.js";
import { type CommandEvent, commentEvent, type GitHubComment, type GitHubIssue, issueBodyEvent } from "./event.js";

/** GitHub's largest page: a window holding fewer comments than this is fetched in one request. */
export const PAGE_SIZE = 100;

/**
 * What the poller remembers per repository (store key `cursor/<owner>/<repo>`).
 * Comments: a window `since` → now, fetched with one conditional request. The window only moves forward once it holds
 * a full page, so most cycles re-ask the same URL and an idle cycle is a 304; `seen` (`id@updated_at`) dedupes the
 * window's comments. Issues: the newest issue number seen, and the ETag of the "newest issue" probe; until the first
 * probe succeeds, `watchingSince` (the hub's first start) tells which issues are new.
 */
export interface PollState {
  comments: { since: string; etag?: string; seen: string[] };
  issues: { lastNumber?: number; etag?: string; watchingSince: string };
}

/** A repo-wide listing's comment: which issue it belongs to is only in `issue_url`. */
type PolledComment = GitHubComment & { issue_url: string };

export interface PollerDeps {
  repo: RepoFullName;
  client: GitHubClient;
  store: Store;
  handle: (event: CommandEvent) => Promise<unknown>;
  metrics: HubMetrics;
  log: Logger;
  now?: () => Date;
}

/**
 * One repository's poll cycle: a conditional request for comments updated in the window and a conditional probe for
 * the newest issue (new issue bodies). New comments and new issues go to `handle` in order; edits never do. When
 * `handle` or GitHub fails, the state saved so far is kept and the rest comes back next cycle: nothing is lost.
 */
export class RepoPoller {
  private readonly key: string;
  private readonly log: Logger;

  constructor(private readonly deps: PollerDeps) {
    this.key = `cursor/${deps.repo}`;
    this.log = deps.log.child({ repo: deps.repo });
  }

  private running: Promise<void> = Promise.resolve();

  /** One cycle; a call while another runs waits for it (the timer and `pollNow` never race on the cursor). */
  cycle(): Promise<void> {
    const next = this.running.then(() => this.runCycle());
    this.running = next.catch(() => {});
    return next;
  }

  private async runCycle(): Promise<void> {
    const state = await this.load();
    try {
      await this.pollComments(state);
      await this.pollIssues(state);
    } finally {
      await this.deps.store.put(this.key, state);
    }
  }

  private async load(): Promise<PollState> {
    const saved = await this.deps.store.get<PollState>(this.key);
    if (saved) return saved;
    // First start: only comments and issues from now on count.
    const now = toGitHubTime(this.deps.now?.() ?? new Date());
    return { comments: { since: now, seen: [] }, issues: { watchingSince: now } };
  }

  private count(endpoint: string, notModified: boolean): void {
    this.deps.metrics.polls.inc({ repo: this.deps.repo, endpoint });
    if (notModified) this.deps.metrics.notModified.inc({ repo: this.deps.repo, endpoint });
  }

  private async pollComments(state: PollState): Promise<void> {
    const window = state.comments;
    const params = {
      ...splitRepo(this.deps.repo),
      since: window.since,
      sort: "updated" as const,
      direction: "asc" as const,
      per_page: PAGE_SIZE,
      // Only the first page is conditional in effect: later pages have other URLs and never match this ETag.
      headers: window.etag ? { "if-none-match": window.etag } : {},
    };
    const pages = this.deps.client.paginate.iterator("GET /repos/{owner}/{repo}/issues/comments", params);
    const seen = new Set(window.seen);
    const inWindow: PolledComment[] = [];
    let etag: string | undefined;
    try {
      for await (const page of pages) {
        etag ??= page.headers.etag;
        for (const comment of page.data as PolledComment[]) {
          const id = `${comment.id}@${comment.updated_at}`;
          if (!seen.has(id)) {
            // Edited comments (updated_at moved) are skipped: only a comment as first written can be a command.
            const issueNumber = Number(comment.issue_url.split("/").at(-1));
            const isNew = comment.created_at === comment.updated_at && Number.isInteger(issueNumber);
            const event = isNew ? commentEvent(this.deps.repo, "poll", issueNumber, comment) : undefined;
            if (event) await this.deps.handle(event);
            seen.add(id);
            window.seen = [...seen];
          }
          inWindow.push(comment);
        }
      }
    } catch (err) {
      if (isNotModified(err)) {
        this.count("comments", true);
        return;
      }
      this.count("comments", false);
      throw err;
    }
    this.count("comments", false);
    const last = inWindow.at(-1);
    if (inWindow.length >= PAGE_SIZE && last) {
      // A full page: move the window up to the newest comment, keeping the ones at that second (since is inclusive).
      state.comments = {
        since: last.updated_at,
        seen: inWindow.filter((c) => c.updated_at === last.updated_at).map((c) => `${c.id}@${c.updated_at}`),
      };
    } else {
      // Keep only ids still in the window, so deleted comments drop out; the ETag makes the next idle cycle a 304.
      state.comments = { since: window.since, etag, seen: inWindow.map((c) => `${c.id}@${c.updated_at}`) };
    }
  }

  private async pollIssues(state: PollState): Promise<void> {
    const { owner, repo } = splitRepo(this.deps.repo);
    let newest: GitHubIssue | undefined;
    let etag: string | undefined;
    try {
      // The newest issue (or pull request: they share numbers) tells whether any issue was opened since last time.
      const res = await this.deps.client.request("GET /repos/{owner}/{repo}/issues", {
        owner,
        repo,
        state: "all",
        sort: "created",
        direction: "desc",
        per_page: 1,
        headers: state.issues.etag ? { "if-none-match": state.issues.etag } : {},
      });
      newest = res.data[0] as GitHubIssue | undefined;
      etag = res.headers.etag;
    } catch (err) {
      this.count("issues", isNotModified(err));
      if (isNotModified(err)) return;
      throw err;
    }
    this.count("issues", false);
    const top = newest?.number ?? 0;
    const last = state.issues.lastNumber ?? (await this.baseline(newest, state.issues.watchingSince));
    for (let n = last + 1; n <= top; n++) {
      const issue = n === top ? newest : await this.fetchIssue(n);
      const event = issue && issueBodyEvent(this.deps.repo, "poll", issue);
      if (event) await this.deps.handle(event);
      state.issues.lastNumber = n;
    }
    state.issues = { ...state.issues, lastNumber: Math.max(top, last), etag };
  }

  /**
   * The newest issue number opened no later than the second the hub started watching. Usually the newest issue itself (no extra call);
   * if GitHub was unreachable at the first start, it walks back over issues opened since, so none is missed.
   */
  private async baseline(newest: GitHubIssue | undefined, watchingSince: string): Promise<number> {
    let n = newest?.number ?? 0;
    let issue = newest;
    while (n > 0 && (issue === undefined || Date.parse(issue.created_at) > Date.parse(watchingSince))) {
      n--;
      issue = n > 0 ? await this.fetchIssue(n) : undefined;
    }
    return n;
  }

  /** An issue opened between two probes; undefined when it is gone (deleted or transferred). */
  private async fetchIssue(n: number): Promise<GitHubIssue | undefined> {
    try {
      const { data } = await this.deps.client.request("GET /repos/{owner}/{repo}/issues/{issue_number}", {
        ...splitRepo(this.deps.repo),
        issue_number: n,
      });
      return data as GitHubIssue;
    } catch (err) {
      if (isGone(err)) return undefined;
      throw err;
    }
  }
}

/** GitHub's timestamp format (whole seconds, `Z`). */
function toGitHubTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
