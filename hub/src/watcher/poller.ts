import type { RepoFullName } from "@thopter/protocol";
import type { Logger } from "pino";
import { splitRepo } from "../github/issues.js";
import { type GitHubClient, isGone, isNotModified } from "../github/octokit.js";
import type { HubMetrics } from "../metrics.js";
import type { Store } from "../store/store.js";
import { type CommentWindow, pollWindow } from "./comment-window.js";
import {
  type CommandEvent,
  commentEvent,
  type GitHubComment,
  type GitHubIssue,
  type GitHubReviewComment,
  issueBodyEvent,
  reviewCommentEvent,
} from "./event.js";
import { pollReviews, type ReviewWatch } from "./review-poll.js";

/**
 * What the poller remembers per repository (store key `cursor/<owner>/<repo>`): a conditional window over
 * conversation comments and one over pull-request line comments (comment-window.ts); for issues, the newest issue
 * number seen and the ETag of the "newest issue" probe (until the first probe succeeds, `watchingSince`, the hub's
 * first start, tells which issues are new); and per watched pull request, its reviews' ETag (review-poll.ts).
 * `reviewComments` and `reviews` are optional: state saved by an older hub has neither.
 */
export interface PollState {
  comments: CommentWindow;
  reviewComments?: CommentWindow;
  issues: { lastNumber?: number; etag?: string; watchingSince: string };
  reviews?: Record<string, ReviewWatch>;
}

/** A repo-wide listing's comment: which issue it belongs to is only in `issue_url`. */
type PolledComment = GitHubComment & { issue_url: string };

export interface PollerDeps {
  repo: RepoFullName;
  client: GitHubClient;
  store: Store;
  handle: (event: CommandEvent) => Promise<unknown>;
  /** Pull requests whose reviews are polled (those of live thopters); none when absent. */
  watchedPulls?: () => Promise<readonly number[]>;
  metrics: HubMetrics;
  log: Logger;
  now?: () => Date;
}

/**
 * One repository's poll cycle: conditional requests for conversation and line comments updated in their windows, a
 * conditional probe for the newest issue (new issue bodies), and the reviews of watched pull requests. New comments,
 * issues and reviews go to `handle` in order; edits never do. When
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
      await this.pollReviewComments(state);
      await this.pollIssues(state);
      await this.pollReviews(state);
    } finally {
      await this.deps.store.put(this.key, state);
    }
  }

  private async load(): Promise<PollState> {
    const saved = await this.deps.store.get<PollState>(this.key);
    if (saved) return saved;
    // First start: only comments and issues from now on count.
    const now = this.nowIso();
    return {
      comments: { since: now, seen: [] },
      reviewComments: { since: now, seen: [] },
      issues: { watchingSince: now },
    };
  }

  private count(endpoint: string, notModified: boolean): void {
    this.deps.metrics.polls.inc({ repo: this.deps.repo, endpoint });
    if (notModified) this.deps.metrics.notModified.inc({ repo: this.deps.repo, endpoint });
  }

  private async pollComments(state: PollState): Promise<void> {
    await pollWindow<PolledComment>(
      {
        ...this.windowPoll("comments"),
        route: "GET /repos/{owner}/{repo}/issues/comments",
        toEvent: (c) => {
          const issueNumber = Number(c.issue_url.split("/").at(-1));
          return Number.isInteger(issueNumber) ? commentEvent(this.deps.repo, "poll", issueNumber, c) : undefined;
        },
        save: (window) => {
          state.comments = window;
        },
      },
      state.comments,
    );
  }

  /** Line comments on pull requests: the same conditional window over their own repository-wide listing. */
  private async pollReviewComments(state: PollState): Promise<void> {
    state.reviewComments ??= { since: this.nowIso(), seen: [] };
    await pollWindow<GitHubReviewComment>(
      {
        ...this.windowPoll("review-comments"),
        route: "GET /repos/{owner}/{repo}/pulls/comments",
        toEvent: (c) => reviewCommentEvent(this.deps.repo, "poll", c),
        save: (window) => {
          state.reviewComments = window;
        },
      },
      state.reviewComments,
    );
  }

  private async pollReviews(state: PollState): Promise<void> {
    const pulls = (await this.deps.watchedPulls?.()) ?? [];
    if (pulls.length === 0 && !state.reviews) return;
    await pollReviews({ ...this.windowPoll("reviews"), now: this.nowIso() }, pulls, state.reviews ?? {}, (watches) => {
      state.reviews = watches;
    });
  }

  private windowPoll(endpoint: string) {
    const { client, repo, handle } = this.deps;
    return { client, repo, handle, count: (notModified: boolean) => this.count(endpoint, notModified) };
  }

  private nowIso(): string {
    return toGitHubTime(this.deps.now?.() ?? new Date());
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
