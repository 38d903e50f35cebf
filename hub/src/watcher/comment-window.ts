import type { RepoFullName } from "@thopter/protocol";
import { splitRepo } from "../github/issues.js";
import { type GitHubClient, isNotModified } from "../github/octokit.js";
import type { CommandEvent, GitHubComment } from "./event.js";

/** GitHub's largest page: a window holding fewer comments than this is fetched in one request. */
export const PAGE_SIZE = 100;

/**
 * A repository-wide comment listing watched as a window `since` → now, fetched with one conditional request. The
 * window only moves forward once it holds a full page, so most cycles re-ask the same URL and an idle cycle is a 304;
 * `seen` (`id@updated_at`) dedupes the window's comments.
 */
export interface CommentWindow {
  since: string;
  etag?: string;
  seen: string[];
}

/** The two listings that work this way: conversation comments (issues and PRs) and PR line comments. */
export type CommentRoute = "GET /repos/{owner}/{repo}/issues/comments" | "GET /repos/{owner}/{repo}/pulls/comments";

export interface WindowPoll<C extends GitHubComment> {
  client: GitHubClient;
  repo: RepoFullName;
  route: CommentRoute;
  /** The event a newly created comment makes (undefined: not a command source). */
  toEvent: (comment: C) => CommandEvent | undefined;
  handle: (event: CommandEvent) => Promise<unknown>;
  /** Called once per request; `notModified` for a 304. */
  count: (notModified: boolean) => void;
  /** Receives the window as it advances, so progress survives a failure part way (the caller saves it). */
  save: (window: CommentWindow) => void;
}

/**
 * One conditional pass over `window`: new comments go to `handle` in order; edits never do (only a comment as first
 * written can be a command). When `handle` or GitHub fails, what was saved so far stays and the rest comes back.
 */
export async function pollWindow<C extends GitHubComment>(poll: WindowPoll<C>, window: CommentWindow): Promise<void> {
  const params = {
    ...splitRepo(poll.repo),
    since: window.since,
    sort: "updated" as const,
    direction: "asc" as const,
    per_page: PAGE_SIZE,
    // Only the first page is conditional in effect: later pages have other URLs and never match this ETag.
    headers: window.etag ? { "if-none-match": window.etag } : {},
  };
  const pages = poll.client.paginate.iterator(poll.route, params);
  const seen = new Set(window.seen);
  const inWindow: C[] = [];
  let etag: string | undefined;
  try {
    for await (const page of pages) {
      etag ??= page.headers.etag;
      for (const comment of page.data as unknown as C[]) {
        const id = `${comment.id}@${comment.updated_at}`;
        if (!seen.has(id)) {
          const event = comment.created_at === comment.updated_at ? poll.toEvent(comment) : undefined;
          if (event) await poll.handle(event);
          seen.add(id);
          poll.save({ ...window, seen: [...seen] });
        }
        inWindow.push(comment);
      }
    }
  } catch (err) {
    poll.count(isNotModified(err));
    if (isNotModified(err)) return;
    throw err;
  }
  poll.count(false);
  const last = inWindow.at(-1);
  if (inWindow.length >= PAGE_SIZE && last) {
    // A full page: move the window up to the newest comment, keeping the ones at that second (since is inclusive).
    poll.save({
      since: last.updated_at,
      seen: inWindow.filter((c) => c.updated_at === last.updated_at).map((c) => `${c.id}@${c.updated_at}`),
    });
  } else {
    // Keep only ids still in the window, so deleted comments drop out; the ETag makes the next idle cycle a 304.
    poll.save({ since: window.since, etag, seen: inWindow.map((c) => `${c.id}@${c.updated_at}`) });
  }
}
