import { git, resolveRef } from "./git.js";
import type { Association, Issue, Model, Reaction, Repo, User } from "./model.js";

/**
 * What a pull request gathers besides its conversation: reviews, review comments on lines of the diff, and the
 * check runs and commit statuses CI reports on commits. Kept per repository (ids are repository-wide, as on GitHub).
 */

export interface ReviewComment {
  id: number;
  repo: Repo;
  pullNumber: number;
  /** The review it belongs to (GitHub makes a single-comment review for a lone line comment). */
  reviewId: number;
  inReplyToId?: number;
  body: string;
  user: User;
  association: Association;
  path: string;
  line: number;
  /** The diff up to and including the commented line, as GitHub shows it. */
  diffHunk: string;
  position: number;
  commitId: string;
  createdAt: Date;
  updatedAt: Date;
  reactions: Reaction[];
}

export const REVIEW_STATES = ["APPROVED", "CHANGES_REQUESTED", "COMMENTED"] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];

export interface Review {
  id: number;
  repo: Repo;
  pullNumber: number;
  user: User;
  association: Association;
  body: string;
  state: ReviewState;
  commitId: string;
  submittedAt: Date;
}

export const CHECK_CONCLUSIONS = ["success", "failure", "neutral", "cancelled", "skipped", "timed_out"] as const;
export type CheckConclusion = (typeof CHECK_CONCLUSIONS)[number];

export interface CheckRun {
  id: number;
  repo: Repo;
  headSha: string;
  name: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: CheckConclusion | null;
  title: string | null;
  summary: string | null;
  /** Details (GitHub Actions put the failing step's log excerpt here). */
  text: string | null;
  startedAt: Date;
  completedAt: Date | null;
}

export type StatusState = "error" | "failure" | "pending" | "success";

export interface CommitStatus {
  id: number;
  repo: Repo;
  sha: string;
  context: string;
  state: StatusState;
  description: string | null;
  targetUrl: string | null;
  createdAt: Date;
}

export interface ReviewCommentInput {
  body: string;
  author: string;
  association?: Association;
  path: string;
  /** A line of the file on the pull request's head (the diff's right side). */
  line: number;
}

export interface ReviewInput {
  body?: string;
  author: string;
  association?: Association;
  state?: ReviewState;
}

export interface CheckRunInput {
  name: string;
  /** Default: the head of `ref` (a branch name). */
  ref: string;
  conclusion?: CheckConclusion | null;
  title?: string;
  summary?: string;
  text?: string;
}

export interface StatusInput {
  ref: string;
  context: string;
  state: StatusState;
  description?: string;
  targetUrl?: string;
}

/** Every review-related thing of one repository. */
export interface RepoReviews {
  comments: Map<number, ReviewComment>;
  reviews: Map<number, Review>;
  checkRuns: CheckRun[];
  statuses: CommitStatus[];
}

export function emptyReviews(): RepoReviews {
  return { comments: new Map(), reviews: new Map(), checkRuns: [], statuses: [] };
}

/**
 * The hunk of `base...head`'s diff of `path` that holds new-side `line`, cut after that line (GitHub's `diff_hunk`),
 * and the line's `position` (lines below the file's first `@@`); undefined when the line is not part of the diff
 * (GitHub refuses such a comment with 422).
 */
export async function diffHunk(gitDir: string, base: string, head: string, path: string, line: number) {
  const diff = await git(["diff", `${base}...${head}`, "--", path], gitDir);
  let hunk: string[] | undefined;
  let newLine = 0;
  let position = 0;
  for (const text of diff.split("\n")) {
    if (hunk) position += 1;
    const header = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(text);
    if (header) {
      hunk = [text];
      newLine = Number(header[1]) - 1;
      continue;
    }
    if (!hunk || text.startsWith("\\")) continue;
    hunk.push(text);
    if (text.startsWith("-")) continue;
    newLine += 1;
    if (newLine === line) return { hunk: hunk.join("\n"), position };
  }
  return undefined;
}

/** Changes GitHub makes to a pull request's records; each emits the webhook GitHub would send. */
export class ReviewActions {
  constructor(
    private readonly model: Model,
    private readonly gitDir: (repo: Repo) => string,
  ) {}

  /** The pull request's head commit now (it moves with every push to its branch). */
  async headOf(issue: Issue): Promise<string> {
    const pull = issue.pull!;
    pull.headSha = (await resolveRef(this.gitDir(issue.repo), `refs/heads/${pull.head}`)) ?? pull.headSha;
    return pull.headSha;
  }

  /** A line comment (in its own single-comment review, as a lone comment is on GitHub); undefined off the diff. */
  async addComment(
    issue: Issue,
    input: ReviewCommentInput,
    replyTo?: ReviewComment,
  ): Promise<ReviewComment | undefined> {
    const head = await this.headOf(issue);
    const where = replyTo ?? input;
    const hunk = replyTo
      ? { hunk: replyTo.diffHunk, position: replyTo.position }
      : await diffHunk(this.gitDir(issue.repo), issue.pull!.baseSha, head, where.path, where.line);
    if (hunk === undefined) return undefined;
    const review = this.addReview(issue, { author: input.author, association: input.association, body: "" }, head, {
      silent: true,
    });
    const at = this.model.now();
    const comment: ReviewComment = {
      id: this.model.nextId("reviewComment"),
      repo: issue.repo,
      pullNumber: issue.number,
      reviewId: review.id,
      inReplyToId: replyTo?.id,
      body: input.body,
      user: this.model.user(input.author),
      association: input.association ?? "NONE",
      path: where.path,
      line: where.line,
      diffHunk: hunk.hunk,
      position: hunk.position,
      commitId: replyTo?.commitId ?? head,
      createdAt: at,
      updatedAt: at,
      reactions: [],
    };
    issue.repo.reviews.comments.set(comment.id, comment);
    issue.updatedAt = at;
    this.model.emit({ kind: "review-comment-created", comment, issue });
    return comment;
  }

  addReview(issue: Issue, input: ReviewInput, commitId: string, options: { silent?: boolean } = {}): Review {
    const review: Review = {
      id: this.model.nextId("review"),
      repo: issue.repo,
      pullNumber: issue.number,
      user: this.model.user(input.author),
      association: input.association ?? "NONE",
      body: input.body ?? "",
      state: input.state ?? "COMMENTED",
      commitId,
      submittedAt: this.model.now(),
    };
    issue.repo.reviews.reviews.set(review.id, review);
    if (!options.silent) this.model.emit({ kind: "review-submitted", review, issue });
    return review;
  }

  async addCheckRun(repo: Repo, input: CheckRunInput): Promise<CheckRun> {
    const headSha = await this.commitOf(repo, input.ref);
    const at = this.model.now();
    const conclusion = input.conclusion === undefined ? "success" : input.conclusion;
    const run: CheckRun = {
      id: this.model.nextId("check"),
      repo,
      headSha,
      name: input.name,
      status: conclusion === null ? "in_progress" : "completed",
      conclusion,
      title: input.title ?? null,
      summary: input.summary ?? null,
      text: input.text ?? null,
      startedAt: at,
      completedAt: conclusion === null ? null : at,
    };
    repo.reviews.checkRuns.push(run);
    return run;
  }

  async addStatus(repo: Repo, input: StatusInput): Promise<CommitStatus> {
    const status: CommitStatus = {
      id: this.model.nextId("status"),
      repo,
      sha: await this.commitOf(repo, input.ref),
      context: input.context,
      state: input.state,
      description: input.description ?? null,
      targetUrl: input.targetUrl ?? null,
      createdAt: this.model.now(),
    };
    repo.reviews.statuses.push(status);
    return status;
  }

  /** A branch name or a commit SHA, as the `{ref}` of GitHub's commit routes. */
  async commitOf(repo: Repo, ref: string): Promise<string> {
    const dir = this.gitDir(repo);
    const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : await resolveRef(dir, `refs/heads/${ref}`);
    if (!sha) throw new Error(`GitHub peer: ${repo.fullName} has no branch ${ref}`);
    return sha;
  }
}
