import { AuthorAssociation, type CommandSource, type RepoFullName } from "@thopter/protocol";

/**
 * What both watchers (poller and webhook) hand to the intake: a newly created comment or a newly opened issue's body.
 * Edits never become events; the watchers drop them.
 */
export interface CommandEvent {
  source: CommandSource;
  body: string;
  /** Webhook payloads carry the issue title; polled comments do not (the intake fetches it for accepted commands). */
  issueTitle?: string;
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
): CommandEvent | undefined {
  if (!c.user) return undefined;
  return {
    body: c.body ?? "",
    issueTitle,
    source: {
      repo,
      issueNumber,
      commentId: c.id,
      author: c.user.login,
      authorAssociation: association(c.author_association),
      url: c.html_url,
      via,
      createdAt: c.created_at,
    },
  };
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
