import type { RepoFullName } from "@thopter/protocol";
import { splitRepo } from "../github/issues.js";
import { type GitHubClient, isGone, isNotModified } from "../github/octokit.js";
import { type CommandEvent, type GitHubReview, reviewEvent } from "./event.js";

/**
 * Review bodies. GitHub has no repository-wide listing of reviews (line comments have one, conversation comments
 * too), so reviews are polled per pull request, and only for the pull requests of live thopters: the ones a
 * `/thopter` in a review can act on. Each is a conditional request, so an unchanged one is a free 304; webhooks
 * (`pull_request_review`) bring every review at once. Per PR: the ETag, and the review ids already handled.
 */
export interface ReviewWatch {
  etag?: string;
  seen: number[];
  /** Reviews submitted before this (the moment the PR was first watched) are history, not commands. */
  since: string;
}

export interface ReviewPoll {
  client: GitHubClient;
  repo: RepoFullName;
  handle: (event: CommandEvent) => Promise<unknown>;
  count: (notModified: boolean) => void;
  now: string;
}

/** Polls each PR in `pulls`; returns the new watches (PRs no longer listed are dropped). */
export async function pollReviews(
  poll: ReviewPoll,
  pulls: readonly number[],
  watches: Record<string, ReviewWatch>,
  save: (watches: Record<string, ReviewWatch>) => void,
): Promise<void> {
  const next: Record<string, ReviewWatch> = {};
  for (const n of pulls) next[n] = watches[n] ?? { seen: [], since: poll.now };
  save(next);
  for (const n of pulls) {
    const watch = next[n]!;
    let reviews: GitHubReview[];
    let etag: string | undefined;
    try {
      const res = await poll.client.request("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
        ...splitRepo(poll.repo),
        pull_number: n,
        per_page: 100,
        headers: watch.etag ? { "if-none-match": watch.etag } : {},
      });
      reviews = res.data as GitHubReview[];
      etag = res.headers.etag;
    } catch (err) {
      poll.count(isNotModified(err));
      if (isNotModified(err)) continue;
      if (isGone(err)) {
        delete next[n];
        save(next);
        continue;
      }
      throw err;
    }
    poll.count(false);
    for (const review of reviews) {
      if (watch.seen.includes(review.id)) continue;
      const fresh = review.submitted_at && Date.parse(review.submitted_at) >= Date.parse(watch.since);
      const event = fresh ? reviewEvent(poll.repo, "poll", n, review) : undefined;
      if (event) await poll.handle(event);
      watch.seen.push(review.id);
      save(next);
    }
    watch.etag = etag;
    save(next);
  }
}
