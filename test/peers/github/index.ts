/**
 * The GitHub peer: an offline stand-in for api.github.com and github.com's git remote, for tests.
 *
 *   const peer = await startGithubPeer();
 *   await peer.addRepo("acme/app", { issuesToken, coderToken, bot: { login: "thopter-bot" } });
 *   peer.createIssue("acme/app", { title: "Fix it", author: "alice", association: "OWNER" });
 *   // GITHUB_API_URL = peer.url; git remote = peer.gitUrl("acme/app") with x-access-token:<token>
 *   afterEach(() => peer.assertClean());   // every request/response matched GitHub's OpenAPI description
 */
export {
  type Association,
  type Delivery,
  type FaultSpec,
  GithubPeer,
  type GithubPeerOptions,
  type LogEntry,
  type PeerStats,
  type RepoSeed,
  type RequestLogEntry,
  type SpecViolation,
  startGithubPeer,
  type TokenStats,
} from "./peer.js";
export { signature as webhookSignature } from "./webhooks.js";
