import { AuthorAssociation, type CommandSource, type RepoFullName, type SourceKind } from "@thopter/protocol";

/**
 * What both watchers (poller and webhook) hand to the intake: a newly created comment or a newly opened issue's body.
 * Edits never become events; the watchers drop them.
 */
export interface CommandEvent {
  source: CommandSource;
  body: string;
  /** Webhook payloads carry the issue title; polled comments do not (the intake fetches it for accepted commands). */
  issueTitle?: string;
  /** Known to be on a pull request (line comments, reviews, webhook payloads); unknown for polled comments. */
  onPull?: boolean;
}

/** The fields the hub reads from GitHub's comment objects (REST listing and webhook payloads alike). */
export interface GitHubComment {
  id: number;
  body?: string;
  html_url: string;
  user: { login: string } | null;
  author_association: string;
  created_at: string;
  updated_at: string;
}

/** A pull request's line comment: which pull request it is on is only in `pull_request_url`. */
export type GitHubReviewComment = GitHubComment & { pull_request_url: string };

/** The fields the hub reads from GitHub's review objects (REST listing and webhook payloads alike). */
export interface GitHubReview {
  id: number;
  body?: string | null;
  html_url: string;
  user: { login: string } | null;
  author_association: string;
  submitted_at?: string | null;
}

/** The fields the hub reads from GitHub's issue objects. */
export interface GitHubIssue {
  number: number;
  title: string;
  body?: string | null;
  html_url: string;
  user: { login: string } | null;
  author_association: string;
  created_at: string;
  pull_request?: unknown;
}

type Via = CommandSource["via"];

/** Undefined for comments whose author account is gone (GitHub's "ghost"): nobody to authorize. */
export function commentEvent(
  repo: RepoFullName,
  via: Via,
  issueNumber: number,
  c: GitHubComment,
  issueTitle?: string,
  kind?: SourceKind,
): CommandEvent | undefined {
  if (!c.user) return undefined;
  return {
    body: c.body ?? "",
    issueTitle,
    ...(kind ? { onPull: true } : {}),
    source: {
      repo,
      issueNumber,
      commentId: c.id,
      author: c.user.login,
      authorAssociation: association(c.author_association),
      url: c.html_url,
      via,
      createdAt: c.created_at,
      ...(kind ? { kind } : {}),
    },
  };
}

/** A line comment; undefined when its pull request cannot be told from it or its author is gone. */
export function reviewCommentEvent(
  repo: RepoFullName,
  via: Via,
  c: GitHubReviewComment,
  pullTitle?: string,
): CommandEvent | undefined {
  const pullNumber = Number(c.pull_request_url.split("/").at(-1));
  if (!Number.isInteger(pullNumber) || pullNumber <= 0) return undefined;
  return commentEvent(repo, via, pullNumber, c, pullTitle, "review-comment");
}

/** A submitted review's body; undefined for reviews without a body (a bare approval) or a deleted author. */
export function reviewEvent(
  repo: RepoFullName,
  via: Via,
  pullNumber: number,
  r: GitHubReview,
  pullTitle?: string,
): CommandEvent | undefined {
  if (!r.body || !r.submitted_at) return undefined;
  const at = r.submitted_at;
  return commentEvent(
    repo,
    via,
    pullNumber,
    { ...r, body: r.body, created_at: at, updated_at: at },
    pullTitle,
    "review",
  );
}

/** A new issue's body; undefined for pull requests (they share the issues API) and deleted authors. */
export function issueBodyEvent(repo: RepoFullName, via: Via, i: GitHubIssue): CommandEvent | undefined {
  if (!i.user || i.pull_request) return undefined;
  return {
    body: i.body ?? "",
    issueTitle: i.title,
    source: {
      repo,
      issueNumber: i.number,
      commentId: null,
      author: i.user.login,
      authorAssociation: association(i.author_association),
      url: i.html_url,
      via,
      createdAt: i.created_at,
    },
  };
}

/** Unknown associations (GitHub may add some) count as the least trusted. */
function association(value: string): AuthorAssociation {
  const parsed = AuthorAssociation.safeParse(value);
  return parsed.success ? parsed.data : "NONE";
}
