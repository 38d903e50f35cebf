import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { RequestError } from "@octokit/request-error";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GithubPeer } from "../../peers/github/index.js";
import {
  CODER_TOKEN,
  HUMAN_TOKEN,
  ISSUES_TOKEN,
  ManualClock,
  NAME,
  OWNER,
  octokit,
  pushFiles,
  REPO,
  seededPeer,
} from "./harness.js";

const repoArgs = { owner: OWNER, repo: NAME };
const BRANCH = "thopter/1--abc";
const SOURCE = "export const answer = 42;\nexport const question = 'six by nine';\nexport const ok = true;\n";

let peer: GithubPeer;
let clock: ManualClock;
let pullNumber: number;

beforeEach(async () => {
  clock = new ManualClock();
  peer = await seededPeer({ clock });
  await pushFiles(peer, BRANCH, { "src/index.ts": SOURCE }, "Ask the question");
  const { data } = await octokit(peer, CODER_TOKEN).rest.pulls.create({
    ...repoArgs,
    head: BRANCH,
    base: "main",
    title: "Ask the question",
    draft: true,
  });
  pullNumber = data.number;
});

afterEach(async () => {
  peer.assertClean();
  await peer.close();
});

describe("GitHub peer: pull requests, reviews and line comments", () => {
  it("finds a PR by head, and GET /pulls/{n} follows pushes to its branch", async () => {
    const hub = octokit(peer, ISSUES_TOKEN);
    const listed = await hub.rest.pulls.list({ ...repoArgs, head: `${OWNER}:${BRANCH}`, state: "all" });
    expect(listed.data.map((p) => p.number)).toEqual([pullNumber]);
    const fix = await pushFiles(peer, BRANCH, { "src/more.ts": "export {};\n" }, "More");
    const { data } = await hub.rest.pulls.get({ ...repoArgs, pull_number: pullNumber });
    expect(data.head).toMatchObject({ ref: BRANCH, sha: fix });
  });

  it("records a line comment with its diff hunk, lists it repo-wide with since/sort, threads replies", async () => {
    const comment = await peer.reviews.addComment(REPO, pullNumber, {
      body: "/thopter use a number",
      author: "alice",
      association: "OWNER",
      path: "src/index.ts",
      line: 2,
    });
    expect(comment).toMatchObject({ path: "src/index.ts", line: 2, side: "RIGHT", author_association: "OWNER" });
    // GitHub's hunk ends at the commented line.
    expect(String(comment.diff_hunk).split("\n").at(-1)).toBe("+export const question = 'six by nine';");
    await expect(
      peer.reviews.addComment(REPO, pullNumber, { body: "x", author: "alice", path: "README.md", line: 1 }),
    ).rejects.toThrow(/not part of #\d+'s diff/);

    clock.advance(5);
    const coder = octokit(peer, CODER_TOKEN);
    const reply = await coder.request("POST /repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies", {
      ...repoArgs,
      pull_number: pullNumber,
      comment_id: comment.id as number,
      body: "Done: it is 42 now.",
    });
    expect(reply.status).toBe(201);
    expect(reply.data).toMatchObject({ in_reply_to_id: comment.id, path: "src/index.ts", line: 2 });

    const hub = octokit(peer, ISSUES_TOKEN);
    const all = await hub.rest.pulls.listReviewCommentsForRepo({ ...repoArgs, sort: "updated", direction: "asc" });
    expect(all.data.map((c) => c.id)).toEqual([comment.id, reply.data.id]);
    const since = await hub.rest.pulls.listReviewCommentsForRepo({ ...repoArgs, since: clock.iso() });
    expect(since.data.map((c) => c.id)).toEqual([reply.data.id]);
    const onPull = await hub.rest.pulls.listReviewComments({ ...repoArgs, pull_number: pullNumber });
    expect(onPull.data).toHaveLength(2);
    expect(peer.reviews.comments(REPO, pullNumber)).toHaveLength(2);
    expect((await hub.rest.pulls.get({ ...repoArgs, pull_number: pullNumber })).data.review_comments).toBe(2);
  });

  it("answers an unchanged review-comment listing with a free 304 (an idle poll costs nothing)", async () => {
    const hub = octokit(peer, ISSUES_TOKEN);
    const first = await hub.rest.pulls.listReviewCommentsForRepo({ ...repoArgs, since: clock.iso() });
    peer.resetStats();
    const again = await hub.rest.pulls
      .listReviewCommentsForRepo({ ...repoArgs, since: clock.iso(), headers: { "if-none-match": first.headers.etag } })
      .catch((e: RequestError) => e);
    expect((again as RequestError).status).toBe(304);
    expect(peer.stats()).toMatchObject({ requests: 1, rateLimited: 0, notModified: 1 });
  });

  it("lets the hub's issues token react on line comments but not read CI results", async () => {
    const comment = await peer.reviews.addComment(REPO, pullNumber, {
      body: "/thopter",
      author: "alice",
      path: "src/index.ts",
      line: 1,
    });
    const hub = octokit(peer, ISSUES_TOKEN);
    const eyes = await hub.rest.reactions.createForPullRequestReviewComment({
      ...repoArgs,
      comment_id: comment.id as number,
      content: "eyes",
    });
    expect(eyes.status).toBe(201);
    expect(peer.reviews.comments(REPO, pullNumber)[0]?.reactions).toMatchObject({ eyes: 1, total_count: 1 });
    const checks = await hub.rest.checks.listForRef({ ...repoArgs, ref: BRANCH }).catch((e: RequestError) => e);
    expect((checks as RequestError).status).toBe(403);
    const status = await hub.rest.repos
      .getCombinedStatusForRef({ ...repoArgs, ref: BRANCH })
      .catch((e: RequestError) => e);
    expect((status as RequestError).status).toBe(403);
  });

  it("lists reviews with their bodies and decisions", async () => {
    await peer.reviews.submitReview(REPO, pullNumber, {
      body: "/thopter please rename",
      author: "alice",
      association: "OWNER",
      state: "CHANGES_REQUESTED",
    });
    const { data } = await octokit(peer, ISSUES_TOKEN).rest.pulls.listReviews({ ...repoArgs, pull_number: pullNumber });
    expect(data.map((r) => [r.state, r.body, r.user?.login])).toEqual([
      ["CHANGES_REQUESTED", "/thopter please rename", "alice"],
    ]);
  });
});

describe("GitHub peer: check runs and commit statuses", () => {
  it("serves the latest check run per name and the combined status of a branch head", async () => {
    await peer.reviews.addCheckRun(REPO, { ref: BRANCH, name: "test", conclusion: "failure", title: "1 failed" });
    await peer.reviews.addCheckRun(REPO, {
      ref: BRANCH,
      name: "test",
      conclusion: "failure",
      title: "2 failed",
      text: "FAIL src/index.test.ts\n  expected 54, got 42",
    });
    await peer.reviews.addCheckRun(REPO, { ref: BRANCH, name: "lint", conclusion: null });
    await peer.reviews.addStatus(REPO, { ref: BRANCH, context: "ci/legacy", state: "pending" });
    await peer.reviews.addStatus(REPO, { ref: BRANCH, context: "ci/legacy", state: "success" });
    await peer.reviews.addStatus(REPO, { ref: "main", context: "ci/legacy", state: "failure" });

    const coder = octokit(peer, CODER_TOKEN);
    const runs = await coder.rest.checks.listForRef({ ...repoArgs, ref: BRANCH });
    expect(runs.data.check_runs.map((r) => [r.name, r.status, r.conclusion, r.output.title])).toEqual([
      ["lint", "in_progress", null, null],
      ["test", "completed", "failure", "2 failed"],
    ]);
    expect(runs.data.check_runs[1]?.output.text).toContain("expected 54");
    const all = await coder.rest.checks.listForRef({ ...repoArgs, ref: BRANCH, filter: "all" });
    expect(all.data.total_count).toBe(3);
    const status = await coder.rest.repos.getCombinedStatusForRef({ ...repoArgs, ref: BRANCH });
    expect(status.data).toMatchObject({ state: "success", total_count: 1 });
    const onMain = await octokit(peer, HUMAN_TOKEN).rest.repos.getCombinedStatusForRef({ ...repoArgs, ref: "main" });
    expect(onMain.data.state).toBe("failure");
  });
});

describe("GitHub peer: review webhooks", () => {
  let receiver: Server;
  const received: { event: string; body: Record<string, unknown> }[] = [];

  beforeEach(async () => {
    received.length = 0;
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({
          event: String(req.headers["x-github-event"]),
          body: JSON.parse(Buffer.concat(chunks).toString()),
        });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    peer.deliverTo(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, "secret-secret");
  });

  afterEach(() => new Promise((resolve) => receiver.close(resolve)));

  it("sends pull_request_review_comment/created and pull_request_review/submitted, valid against the schema", async () => {
    await peer.reviews.addComment(REPO, pullNumber, {
      body: "/thopter",
      author: "alice",
      path: "src/index.ts",
      line: 3,
    });
    await peer.reviews.submitReview(REPO, pullNumber, { body: "/thopter fix all", author: "alice" });
    await peer.deliveriesSettled();
    expect(received.map((r) => [r.event, r.body.action])).toEqual([
      ["pull_request_review_comment", "created"],
      ["pull_request_review", "submitted"],
    ]);
    expect(received[0]?.body).toMatchObject({
      comment: { body: "/thopter", line: 3 },
      pull_request: { number: pullNumber },
    });
    expect(received[1]?.body).toMatchObject({
      review: { body: "/thopter fix all" },
      pull_request: { head: { ref: BRANCH } },
    });
  });
});
