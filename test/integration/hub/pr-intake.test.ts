import { Octokit } from "@octokit/core";
import { describe, expect, it } from "vitest";
import { HUMAN_TOKEN, pushFiles } from "../github-peer/harness.js";
import { BOT, CODER_TOKEN, REPO, requests, type Setup, until, useHub, WEBHOOK_SECRET } from "./harness.js";

const BRANCH = "thopter/1--a1b2c3";
const [owner, repo] = REPO.split("/") as [string, string];

/** A thopter's draft PR (the branch pushed, the PR opened with the coder token as the broker does); its number. */
async function thopterPull(s: Setup): Promise<number> {
  s.peer.addUser("acme", { token: HUMAN_TOKEN });
  await pushFiles(
    s.peer,
    BRANCH,
    { "src/wobble.ts": "export const wobble = 1;\nexport const fixed = false;\n" },
    "Fix",
    REPO,
  );
  const coder = new Octokit({ baseUrl: s.peer.url, auth: CODER_TOKEN });
  const { data } = await coder.request("POST /repos/{owner}/{repo}/pulls", {
    owner,
    repo,
    head: BRANCH,
    base: "main",
    title: "Fix the wobble",
    draft: true,
  });
  return data.number;
}

const lineComment = (s: Setup, pull: number, body: string, author = "alice") =>
  s.peer.reviews.addComment(REPO, pull, { body, author, association: "OWNER", path: "src/wobble.ts", line: 2 });

const eyesOnLine = (s: Setup, pull: number, id: unknown) =>
  (s.peer.reviews.comments(REPO, pull).find((c) => c.id === id)?.reactions as { eyes: number } | undefined)?.eyes;

describe("hub intake from pull requests, by polling", () => {
  const s = useHub();

  it("takes a /thopter line comment as a command on the PR, 👀 on the line comment, and idles at 0 cost", async () => {
    const pull = await thopterPull(s);
    await s.hub.pollNow();
    const comment = await lineComment(s, pull, "/thopter make it a boolean");
    await s.hub.pollNow();
    await s.hub.pollNow(); // sees the 👀 roll-up change on the line comment

    const stored = await requests(s.hub);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      key: `${REPO}#${pull}/rc${comment.id}`,
      acknowledged: true,
      issueTitle: "Fix the wobble",
      // Without -p, a command on a PR reads the review prompt; the new thopter continues the PR's branch.
      command: { kind: "start", prompt: "review", count: 1, instructions: "make it a boolean" },
      followUp: { pullNumber: pull, branch: BRANCH },
      source: { issueNumber: pull, commentId: comment.id, kind: "review-comment", author: "alice", via: "poll" },
    });
    expect(eyesOnLine(s, pull, comment.id)).toBe(1);

    s.peer.resetStats();
    await s.hub.pollNow();
    // Conversation comments, line comments and the newest-issue probe: three free 304s.
    expect(s.peer.stats()).toMatchObject({ rateLimited: 0, notModified: 3 });
  });

  it("takes nothing from a line comment without /thopter: no request, no 👀, no reply", async () => {
    const pull = await thopterPull(s);
    await s.hub.pollNow();
    const comment = await lineComment(s, pull, "just a remark about /thopter in passing");
    await s.hub.pollNow();
    expect(await requests(s.hub)).toEqual([]);
    expect(eyesOnLine(s, pull, comment.id)).toBe(0);
    expect(s.peer.comments(REPO, pull)).toEqual([]);
  });
});

describe("commands on pull requests that are refused or stop", () => {
  const s = useHub();
  const botReplies = (pull: number) =>
    s.peer
      .comments(REPO, pull)
      .filter((c) => (c.user as { login: string }).login === BOT)
      .map((c) => String(c.body));

  it("refuses -n 2 on a thopter's PR (one branch, one writer) with a reply on the PR", async () => {
    const pull = await thopterPull(s);
    await s.hub.pollNow();
    await lineComment(s, pull, "/thopter -n 2 try twice");
    await s.hub.pollNow();
    expect(await requests(s.hub)).toEqual([]);
    expect(botReplies(pull)).toEqual([expect.stringContaining("`-n 2` cannot work on a pull request")]);
  });

  it("refuses a /thopter on a PR whose head is not a thopter's branch (also a look-alike name), with a reply", async () => {
    s.peer.addUser("acme", { token: HUMAN_TOKEN });
    const human = new Octokit({ baseUrl: s.peer.url, auth: HUMAN_TOKEN });
    for (const head of ["feature/x", "thopter/evil"]) {
      await pushFiles(s.peer, head, { [`${head.replace("/", "-")}.txt`]: "x\n" }, "Change", REPO);
      const body = { owner, repo, head, base: "main", title: `A person's PR from ${head}` };
      const pull = (await human.request("POST /repos/{owner}/{repo}/pulls", body)).data.number;
      await s.hub.pollNow();
      // A conversation comment: the poller cannot tell it is on a PR; the intake asks GitHub.
      s.peer.addComment(REPO, pull, { body: "/thopter fix this too", author: "alice", association: "OWNER" });
      await s.hub.pollNow();
      expect(botReplies(pull)).toEqual([expect.stringContaining(`\`acme:${head}\` is not a thopter's branch`)]);
    }
    expect(await requests(s.hub)).toEqual([]);
  });

  it("refuses a stranger's line comment, and takes /thopter stop on the PR as a stop of its branch", async () => {
    const pull = await thopterPull(s);
    await s.hub.pollNow();
    const stranger = await s.peer.reviews.addComment(REPO, pull, {
      body: "/thopter delete everything",
      author: "mallory",
      association: "NONE",
      path: "src/wobble.ts",
      line: 1,
    });
    await lineComment(s, pull, "/thopter stop");
    await s.hub.pollNow();
    expect(botReplies(pull)).toEqual([expect.stringContaining("Sorry @mallory")]);
    expect(eyesOnLine(s, pull, stranger.id)).toBe(0);
    expect(await requests(s.hub)).toMatchObject([
      { command: { kind: "stop" }, followUp: { pullNumber: pull, branch: BRANCH }, source: { kind: "review-comment" } },
    ]);
  });
});

describe("hub intake from pull requests, by webhook", () => {
  const s = useHub({ GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET }, (hub) =>
    hub.peer.deliverTo(`${hub.hub.url}/github/webhook`, WEBHOOK_SECRET),
  );

  it("takes a review's body and a line comment from their deliveries, once each even when polled too", async () => {
    const pull = await thopterPull(s);
    const review = await s.peer.reviews.submitReview(REPO, pull, {
      body: "/thopter -p plan rename things",
      author: "alice",
      association: "OWNER",
      state: "CHANGES_REQUESTED",
    });
    const comment = await lineComment(s, pull, "/thopter here too");
    await s.peer.deliveriesSettled();
    expect(s.peer.deliveries.map((d) => [d.event, d.status])).toContainEqual(["pull_request_review", 200]);
    await s.hub.pollNow();
    await until(async () => (await requests(s.hub)).length === 2);
    const stored = await requests(s.hub);
    expect(stored.map((r) => r.key).sort()).toEqual([
      `${REPO}#${pull}/r${review.id}`,
      `${REPO}#${pull}/rc${comment.id}`,
    ]);
    expect(stored.find((r) => r.source.kind === "review")).toMatchObject({
      source: { via: "webhook", issueNumber: pull, commentId: review.id },
      command: { prompt: "plan", instructions: "rename things" },
      acknowledged: true,
    });
    // Reviews take no reactions over REST: the 👀 for a review goes on the pull request.
    expect(s.peer.reactions(REPO, { issue: pull }).map((r) => r.content)).toEqual(["eyes"]);
    expect(eyesOnLine(s, pull, comment.id)).toBe(1);
  });
});
