import type { Repo } from "./model.js";
import type { Renderer } from "./render.js";
import { iso, nodeId } from "./render.js";
import type { CheckRun, CommitStatus, Review, ReviewComment } from "./review-model.js";

/** The JSON GitHub sends for reviews, review comments, check runs and commit statuses (every required field). */

export function reviewCommentJson(render: Renderer, c: ReviewComment): Record<string, unknown> {
  const api = `${render.repoApi(c.repo)}/pulls/comments/${c.id}`;
  const pullApi = `${render.repoApi(c.repo)}/pulls/${c.pullNumber}`;
  const web = `${render.repoWeb(c.repo)}/pull/${c.pullNumber}#discussion_r${c.id}`;
  const json: Record<string, unknown> = {
    url: api,
    pull_request_review_id: c.reviewId,
    id: c.id,
    node_id: nodeId("PullRequestReviewComment", c.id),
    diff_hunk: c.diffHunk,
    path: c.path,
    position: c.position,
    original_position: c.position,
    commit_id: c.commitId,
    original_commit_id: c.commitId,
    user: render.user(c.user),
    body: c.body,
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
    html_url: web,
    pull_request_url: pullApi,
    author_association: c.association,
    _links: { self: { href: api }, html: { href: web }, pull_request: { href: pullApi } },
    start_line: null,
    original_start_line: null,
    start_side: null,
    line: c.line,
    original_line: c.line,
    side: "RIGHT",
    subject_type: "line",
    reactions: render.reactionRollup(`${api}/reactions`, c.reactions),
  };
  if (c.inReplyToId !== undefined) json.in_reply_to_id = c.inReplyToId;
  return json;
}

export function reviewJson(render: Renderer, r: Review): Record<string, unknown> {
  const pullApi = `${render.repoApi(r.repo)}/pulls/${r.pullNumber}`;
  const web = `${render.repoWeb(r.repo)}/pull/${r.pullNumber}#pullrequestreview-${r.id}`;
  return {
    id: r.id,
    node_id: nodeId("PullRequestReview", r.id),
    user: render.user(r.user),
    body: r.body,
    state: r.state,
    html_url: web,
    pull_request_url: pullApi,
    _links: { html: { href: web }, pull_request: { href: pullApi } },
    submitted_at: iso(r.submittedAt),
    commit_id: r.commitId,
    author_association: r.association,
  };
}

export function checkRunJson(render: Renderer, run: CheckRun): Record<string, unknown> {
  const api = `${render.repoApi(run.repo)}/check-runs/${run.id}`;
  const web = `${render.repoWeb(run.repo)}/runs/${run.id}`;
  return {
    id: run.id,
    head_sha: run.headSha,
    node_id: nodeId("CheckRun", run.id),
    external_id: "",
    url: api,
    html_url: web,
    details_url: web,
    status: run.status,
    conclusion: run.conclusion,
    started_at: iso(run.startedAt),
    completed_at: run.completedAt ? iso(run.completedAt) : null,
    output: {
      title: run.title,
      summary: run.summary,
      text: run.text,
      annotations_count: 0,
      annotations_url: `${api}/annotations`,
    },
    name: run.name,
    check_suite: { id: run.id },
    app: null,
    pull_requests: [],
  };
}

export function statusJson(render: Renderer, s: CommitStatus): Record<string, unknown> {
  return {
    url: `${render.repoApi(s.repo)}/statuses/${s.sha}`,
    avatar_url: null,
    id: s.id,
    node_id: nodeId("StatusContext", s.id),
    state: s.state,
    description: s.description,
    target_url: s.targetUrl,
    context: s.context,
    created_at: iso(s.createdAt),
    updated_at: iso(s.createdAt),
  };
}

/** `GET …/commits/{ref}/status`: the newest status per context, and their combined state. */
export function combinedStatusJson(
  render: Renderer,
  repo: Repo,
  sha: string,
  statuses: CommitStatus[],
): Record<string, unknown> {
  const latest = new Map<string, CommitStatus>();
  for (const s of statuses) latest.set(s.context, s);
  const list = [...latest.values()].reverse();
  const states = new Set(list.map((s) => s.state));
  const state =
    states.has("error") || states.has("failure")
      ? "failure"
      : list.length === 0 || states.has("pending")
        ? "pending"
        : "success";
  return {
    state,
    statuses: list.map((s) => statusJson(render, s)),
    sha,
    total_count: list.length,
    repository: render.repository(repo),
    commit_url: `${render.repoApi(repo)}/commits/${sha}`,
    url: `${render.repoApi(repo)}/commits/${sha}/status`,
  };
}
