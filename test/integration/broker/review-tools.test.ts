import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HUMAN_TOKEN, pushFiles } from "../github-peer/harness.js";
import { fakeGithubToken, isRoot, REPO, startWorld, text, type World } from "./harness.js";

describe.skipIf(!isRoot)("review tools: get_pull_request, get_checks, reply_to_review_comment (root only)", () => {
  let w: World;
  let pullNumber = 0;
  let lineId = 0;

  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(async () => {
    w?.peer.assertClean();
    await w?.close();
  });

  it("refuses to read a pull request before the branch has one", async () => {
    const early = await w.call("get_pull_request");
    expect(early.isError).toBe(true);
    expect(text(early)).toMatch(/no pull request for thopter\/.* yet: push_branch, then open_pull_request first/);
  });

  it("get_pull_request shows reviews, line comments with their diff hunks, and the conversation since a point", async () => {
    await w.commit({ "hello.txt": "hello\nworld\n" }, "Add greeting");
    expect((await w.call("push_branch")).isError).toBeFalsy();
    const opened = await w.call("open_pull_request", { title: "Greeting", body: "Adds hello.txt" });
    pullNumber = Number(opened.structuredContent?.number);
    const line = await w.peer.reviews.addComment(REPO, pullNumber, {
      body: "/thopter say bonjour here",
      author: "alice",
      association: "OWNER",
      path: "hello.txt",
      line: 2,
    });
    lineId = Number(line.id);
    await w.peer.reviews.submitReview(REPO, pullNumber, {
      body: "Nearly there",
      author: "alice",
      state: "CHANGES_REQUESTED",
    });
    w.peer.addComment(REPO, pullNumber, { body: "old remark", author: "bob" });

    const read = await w.call("get_pull_request");
    expect(read.isError, text(read)).toBeFalsy();
    expect(read.structuredContent).toMatchObject({
      number: pullNumber,
      title: "Greeting",
      state: "open",
      draft: true,
      head: { ref: w.workBranch },
      reviews: expect.arrayContaining([
        { id: expect.any(Number), author: "alice", state: "CHANGES_REQUESTED", body: "Nearly there" },
      ]),
      reviewComments: [
        { id: lineId, author: "alice", path: "hello.txt", line: 2, inReplyTo: null, body: "/thopter say bonjour here" },
      ],
      comments: [{ author: "bob", body: "old remark" }],
    });
    const hunk = (read.structuredContent?.reviewComments as { diffHunk: string }[] | undefined)?.[0]?.diffHunk ?? "";
    expect(hunk.split("\n").at(-1)).toBe("+world");
    expect(text(read)).toContain(`### [${lineId}] @alice on hello.txt:2`);

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const since = await w.call("get_pull_request", { since: future });
    expect(since.structuredContent?.comments).toEqual([]);
  });

  it("get_checks reports failing runs with their log excerpt and the combined status of the head", async () => {
    await w.peer.reviews.addCheckRun(REPO, {
      ref: w.workBranch,
      name: "test",
      conclusion: "failure",
      title: "1 test failed",
      summary: "hello.test.ts failed",
      text: "FAIL hello.test.ts\n  expected 'bonjour', got 'world'",
    });
    await w.peer.reviews.addCheckRun(REPO, { ref: w.workBranch, name: "lint", conclusion: "success" });
    await w.peer.reviews.addStatus(REPO, { ref: w.workBranch, context: "ci/legacy", state: "pending" });
    const checks = await w.call("get_checks");
    expect(checks.isError, text(checks)).toBeFalsy();
    expect(checks.structuredContent).toMatchObject({
      ref: w.workBranch,
      combinedState: "pending",
      statuses: [{ context: "ci/legacy", state: "pending" }],
    });
    const test = (checks.structuredContent?.checks as { name: string; excerpt: string }[] | undefined)?.find(
      (c) => c.name === "test",
    );
    expect(test).toMatchObject({ conclusion: "failure", title: "1 test failed" });
    expect(test?.excerpt).toContain("expected 'bonjour'");
    expect(text(checks)).toMatch(/1 failing, 0 pending, 2 in all/);
  });

  it("reply_to_review_comment answers in the thread, redacted; another PR's comment is out of reach", async () => {
    const secret = fakeGithubToken();
    const reply = await w.call("reply_to_review_comment", { comment_id: lineId, body: `Done, and ${secret}` });
    expect(reply.isError, text(reply)).toBeFalsy();
    expect(reply.structuredContent).toMatchObject({ redacted: true });
    const thread = w.peer.reviews.comments(REPO, pullNumber);
    expect(thread.at(-1)).toMatchObject({ in_reply_to_id: lineId, user: { login: "thopter-bot" } });
    expect(String(thread.at(-1)?.body)).not.toContain(secret);

    // A person's PR on another branch: its line comment is in another thread the thopter may not answer.
    w.peer.addUser("acme", { token: HUMAN_TOKEN });
    await pushFiles(w.peer, "feature/other", { "other.txt": "x\n" }, "Other", REPO);
    const otherNumber = await otherPull(w);
    const other = await w.peer.reviews.addComment(REPO, otherNumber, {
      body: "not for you",
      author: "alice",
      path: "other.txt",
      line: 1,
    });
    const stray = await w.call("reply_to_review_comment", { comment_id: Number(other.id), body: "hi" });
    expect(stray.isError).toBe(true);
    expect(w.peer.reviews.comments(REPO, otherNumber)).toHaveLength(1);
  });

  it("counts replies against the comment budget", async () => {
    let refusal = "";
    for (let i = 0; i < 6 && !refusal; i++) {
      const r = await w.call("reply_to_review_comment", { comment_id: lineId, body: `reply ${i}` });
      if (r.isError) refusal = text(r);
    }
    expect(refusal).toMatch(/Comment limit reached: a reply counts against 5 issue comments per 10 minutes/);
  });
});

async function otherPull(w: World): Promise<number> {
  const [owner, repo] = REPO.split("/") as [string, string];
  const res = await fetch(`${w.peer.url}/repos/${owner}/${repo}/pulls`, {
    method: "POST",
    headers: { authorization: `token ${HUMAN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ head: "feature/other", base: "main", title: "Other" }),
  });
  return ((await res.json()) as { number: number }).number;
}
