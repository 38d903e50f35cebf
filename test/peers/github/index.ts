/**
 * The GitHub peer: an offline stand-in for api.github.com and github.com's git remote, for tests.
 *
 *   const peer = await startGithubPeer();
 *   await peer.addRepo("acme/app", { issuesToken, coderToken, bot: { login: "thopter-bot" } });
 *   peer.createIssue("acme/app", { title: "Fix it", body: "/thopter", author: "alice", association: "OWNER" });
 *   // GITHUB_API_URL = peer.url; git remote = peer.gitUrl("acme/app"), Basic auth x-access-token:<token>
 *   afterEach(() => peer.assertClean());   // every request/response/delivery matched GitHub's OpenAPI description
 *
 * REST (validated against `@octokit/openapi`'s api.github.com description; see routes.ts):
 *   GET /repos/{o}/{r} · GET /repos/{o}/{r}/issues · GET /repos/{o}/{r}/issues/{n} ·
 *   GET|POST /repos/{o}/{r}/issues/{n}/comments · GET /repos/{o}/{r}/issues/comments ·
 *   GET|PATCH /repos/{o}/{r}/issues/comments/{id} · GET|POST …/issues/{n}/reactions and …/comments/{id}/reactions ·
 *   GET|POST /repos/{o}/{r}/pulls · GET /repos/{o}/{r}/pulls/{n} · GET /repos/{o}/{r}/pulls/comments (since/sort,
 *   ETags) · GET|POST …/pulls/{n}/comments · POST …/pulls/{n}/comments/{id}/replies · GET …/pulls/{n}/reviews · GET …/pulls/{n}/commits ·
 *   GET|POST …/pulls/comments/{id}/reactions · GET …/commits/{ref}/check-runs · GET …/commits/{ref}/status ·
 *   GET /user · GET /rate_limit. `peer.reviews` adds line comments, reviews, check runs and statuses as people and
 *   CI would (review-controls.ts).
 *   A call to anything else is answered 404 and recorded as a violation, as is a query filter the peer ignores.
 *
 * Tokens behave like fine-grained PATs: the issues token reads and writes issues, comments and reactions, and pull
 * requests (line comments and their reactions) only; the
 * coder token may also open pull requests and push, but its user may only write `refs/heads/thopter/*` (a
 * pre-receive hook answers like a GitHub ruleset, GH013); a human token from `addUser(login, { token })` may do
 * anything. GET answers carry strong per-token ETags (If-None-Match → 304, free), `x-ratelimit-*` headers and
 * `Link` pagination; `stats()` counts requests, rate-limited requests and 304s. `inject()` answers the next
 * matching requests with 500/502 or a secondary-rate-limit 403/429 with `retry-after`. `deliverTo(url, secret)`
 * sends signed `issues`/`issue_comment` webhooks for issue and comment creation and comment edits, and
 * `pull_request_review`/`pull_request_review_comment` ones for submitted reviews and new line comments.
 */
import { GithubPeer } from "./peer.js";
import type { GithubPeerOptions } from "./peer-options.js";

export type { PeerStats, TokenStats } from "./accounting.js";
export type { FaultSpec } from "./faults.js";
export type { LogEntry } from "./git.js";
export type { Association } from "./model.js";
export type { SpecViolation } from "./openapi.js";
export type { GithubPeerOptions, RepoSeed, RequestLogEntry } from "./peer-options.js";
export type { Delivery } from "./webhooks.js";
export { GithubPeer };

/** Starts a GitHub peer on 127.0.0.1 (a free port) with its own temporary directory for git repositories. */
export function startGithubPeer(options?: GithubPeerOptions): Promise<GithubPeer> {
  return GithubPeer.start(options);
}
export { signature as webhookSignature } from "./webhooks.js";
