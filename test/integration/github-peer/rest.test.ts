import { RequestError } from "@octokit/request-error";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GithubPeer } from "../../peers/github/index.js";
import { BOT, HUMAN_TOKEN, ISSUES_TOKEN, ManualClock, NAME, OWNER, octokit, REPO, seededPeer } from "./harness.js";

let peer: GithubPeer;
let clock: ManualClock;

beforeEach(async () => {
  clock = new ManualClock();
  peer = await seededPeer({ clock });
});

afterEach(async () => {
  peer.assertClean();
  await peer.close();
});

const repoArgs = { owner: OWNER, repo: NAME };

describe("GitHub peer REST", () => {
  it("serves the repository with clone_url pointing at its own git server", async () => {
    const { data } = await octokit(peer, ISSUES_TOKEN).rest.repos.get(repoArgs);
    expect(data.full_name).toBe(REPO);
    expect(data.default_branch).toBe("main");
    expect(data.clone_url).toBe(peer.gitUrl(REPO));
    expect(data.owner.login).toBe(OWNER);
  });

  it("paginates open issues with Link headers that Octokit follows", async () => {
    for (let i = 1; i <= 75; i++) {
      peer.createIssue(REPO, { title: `issue ${i}`, author: "alice", association: "MEMBER" });
      clock.advance(1);
    }
    const first = await octokit(peer, ISSUES_TOKEN).rest.issues.listForRepo({ ...repoArgs, per_page: 30 });
    expect(first.data.map((i) => i.number).slice(0, 3)).toEqual([75, 74, 73]);
    expect(first.headers.link).toContain('rel="next"');
    expect(first.headers.link).toMatch(/page=3[^>]*>; rel="last"/);

    const all = await octokit(peer, ISSUES_TOKEN).paginate("GET /repos/{owner}/{repo}/issues", {
      ...repoArgs,
      per_page: 30,
      sort: "created",
      direction: "asc",
    });
    expect(all.map((i) => i.number)).toEqual(Array.from({ length: 75 }, (_, i) => i + 1));
    expect(peer.stats().byRoute["GET /repos/{owner}/{repo}/issues"]).toBe(4);

    const middle = await octokit(peer, ISSUES_TOKEN).rest.issues.listForRepo({ ...repoArgs, per_page: 30, page: 2 });
    expect(middle.data).toHaveLength(30);
    expect(middle.headers.link).toMatch(/page=1[^>]*>; rel="prev"/);
    expect(middle.headers.link).toMatch(/page=3[^>]*>; rel="next"/);
    expect(middle.headers.link).toMatch(/page=1[^>]*>; rel="first"/);
    const capped = await octokit(peer, ISSUES_TOKEN).rest.issues.listForRepo({ ...repoArgs, per_page: 500 });
    expect(capped.data).toHaveLength(75);

    const closed = await octokit(peer, ISSUES_TOKEN).rest.issues.listForRepo({ ...repoArgs, state: "closed" });
    expect(closed.data).toEqual([]);
  });

  it("lists repository comments updated at or after `since`, sorted by update, edits included", async () => {
    peer.createIssue(REPO, { title: "one", author: "alice", association: "OWNER" });
    const c1 = peer.addComment(REPO, 1, { body: "first", author: "alice", association: "OWNER" });
    clock.advance(10);
    const c2 = peer.addComment(REPO, 1, { body: "second", author: "bob", association: "NONE" });
    clock.advance(10);
    const c3 = peer.addComment(REPO, 1, { body: "third", author: "alice", association: "OWNER" });
    const cursor = c3.updated_at as string;
    clock.advance(10);
    peer.editComment(c1.id as number, "first, edited");

    const gh = octokit(peer, ISSUES_TOKEN);
    const since = await gh.rest.issues.listCommentsForRepo({
      ...repoArgs,
      sort: "updated",
      direction: "asc",
      since: cursor,
    });
    // c3 was updated exactly at the cursor ("at or after"), c1 later by its edit; c2 is older.
    expect(since.data.map((c) => c.id)).toEqual([c3.id, c1.id]);
    expect(since.data[1]?.body).toBe("first, edited");

    const byId = await gh.rest.issues.listCommentsForRepo(repoArgs);
    expect(byId.data.map((c) => c.id)).toEqual([c1.id, c2.id, c3.id]);
    const newestFirst = await gh.rest.issues.listCommentsForRepo({ ...repoArgs, sort: "created", direction: "desc" });
    expect(newestFirst.data.map((c) => c.id)).toEqual([c3.id, c2.id, c1.id]);

    peer.deleteComment(c2.id as number);
    const afterDelete = await gh.rest.issues.listComments({ ...repoArgs, issue_number: 1 });
    expect(afterDelete.data.map((c) => c.body)).toEqual(["first, edited", "third"]);
    const issue = await gh.rest.issues.get({ ...repoArgs, issue_number: 1 });
    expect(issue.data.comments).toBe(2);
  });

  it("posts comments as the token's user and answers 201 then 200 for a repeated reaction", async () => {
    peer.createIssue(REPO, { title: "do it", body: "/thopter", author: "alice", association: "OWNER" });
    const gh = octokit(peer, ISSUES_TOKEN);
    const comment = await gh.rest.issues.createComment({ ...repoArgs, issue_number: 1, body: "On it" });
    expect(comment.status).toBe(201);
    expect(comment.data.user?.login).toBe(BOT);
    expect(peer.comments(REPO, 1).map((c) => c.body)).toEqual(["On it"]);

    const first = await gh.rest.reactions.createForIssueComment({
      ...repoArgs,
      comment_id: comment.data.id,
      content: "eyes",
    });
    const again = await gh.rest.reactions.createForIssueComment({
      ...repoArgs,
      comment_id: comment.data.id,
      content: "eyes",
    });
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.data.id).toBe(first.data.id);
    expect(peer.reactions(REPO, { comment: Number(comment.data.id) })).toHaveLength(1);

    const onIssue = await gh.rest.reactions.createForIssue({ ...repoArgs, issue_number: 1, content: "rocket" });
    expect(onIssue.status).toBe(201);
    const single = await gh.rest.issues.getComment({ ...repoArgs, comment_id: comment.data.id });
    expect(single.data.reactions).toMatchObject({ eyes: 1, total_count: 1 });
    const onComment = await gh.rest.reactions.listForIssueComment({ ...repoArgs, comment_id: comment.data.id });
    expect(onComment.data.map((r) => r.content)).toEqual(["eyes"]);
    const listed = await gh.rest.reactions.listForIssue({ ...repoArgs, issue_number: 1 });
    expect(listed.data.map((r) => [r.content, r.user?.login])).toEqual([["rocket", BOT]]);
    const issue = await gh.rest.issues.get({ ...repoArgs, issue_number: 1 });
    expect(issue.data.reactions?.rocket).toBe(1);
  });

  it("answers the token's user and its rate limit without counting /rate_limit", async () => {
    const gh = octokit(peer, ISSUES_TOKEN);
    const user = await gh.rest.users.getAuthenticated();
    expect(user.data.login).toBe(BOT);
    const limit = await gh.rest.rateLimit.get();
    expect(limit.data.resources.core).toMatchObject({ limit: 5000, used: 1, remaining: 4999 });
    expect(limit.headers["x-ratelimit-used"]).toBe("1");
    expect(peer.stats()).toMatchObject({ requests: 2, rateLimited: 1 });
    const human = await octokit(peer, HUMAN_TOKEN).rest.users.getAuthenticated();
    expect(human.data.login).toBe(OWNER);
  });

  it("serves /meta without credentials, its ranges the one host it listens on (what a thopter's firewall allows)", async () => {
    const meta = await fetch(`${peer.url}/meta`);
    expect(meta.status).toBe(200);
    const host = new URL(peer.url).hostname;
    const ranges = [`${host}/32`];
    expect(await meta.json()).toMatchObject({ api: ranges, git: ranges, web: ranges, packages: ranges });
    expect(peer.stats()).toMatchObject({ rateLimited: 0 });
  });

  it("answers unknown routes, unknown tokens and missing issues with GitHub's JSON errors", async () => {
    const unknown = await fetch(`${peer.url}/repos/${REPO}/no-such-thing`, {
      headers: { authorization: `token ${ISSUES_TOKEN}` },
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      message: "Not Found",
      documentation_url: "https://docs.github.com/rest",
      status: "404",
    });
    // A client calling a path GitHub does not have is a bug the peer reports.
    expect(peer.takeViolations()).toMatchObject([
      { direction: "request", errors: ["GitHub's API has no operation GET /repos/acme/app/no-such-thing"] },
    ]);
    await fetch(`${peer.url}/repos/${REPO}/branches`, { headers: { authorization: `token ${ISSUES_TOKEN}` } });
    expect(peer.takeViolations()[0]?.errors[0]).toContain("does not implement GET /repos/{owner}/{repo}/branches");

    // Anonymous: private repositories look absent; /user needs a token.
    expect((await fetch(`${peer.url}/repos/${REPO}`)).status).toBe(404);
    const anonymous = await fetch(`${peer.url}/user`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { message: string }).message).toBe("Requires authentication");

    const bad = await octokit(peer, "not-a-known-token")
      .rest.repos.get(repoArgs)
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(RequestError);
    expect((bad as RequestError).status).toBe(401);
    expect((bad as RequestError).message).toContain("Bad credentials");

    const missing = await octokit(peer, ISSUES_TOKEN)
      .rest.issues.get({ ...repoArgs, issue_number: 99 })
      .catch((e: unknown) => e);
    expect((missing as RequestError).status).toBe(404);
    expect((missing as RequestError).response?.data).toMatchObject({
      message: "Not Found",
      documentation_url: "https://docs.github.com/rest/issues/issues#get-an-issue",
    });
  });

  it("enforces token scope: other repositories look absent, missing permissions are 403", async () => {
    await peer.addRepo("other/repo", {
      issuesToken: "other-issues-1",
      coderToken: "other-coder-1",
      bot: { login: BOT },
    });
    const error = (await octokit(peer, ISSUES_TOKEN)
      .rest.repos.get({ owner: "other", repo: "repo" })
      .catch((e: unknown) => e)) as RequestError;
    expect(error.status).toBe(404);
    const ok = await octokit(peer, "other-issues-1").rest.repos.get({ owner: "other", repo: "repo" });
    expect(ok.data.full_name).toBe("other/repo");

    peer.createIssue(REPO, { title: "x", author: "alice" });
    // The issues token has no Checks permission (nor Contents: git.test.ts).
    const checks = (await octokit(peer, ISSUES_TOKEN)
      .rest.checks.listForRef({ ...repoArgs, ref: "main" })
      .catch((e: unknown) => e)) as RequestError;
    expect(checks.status).toBe(403);
    expect(checks.response?.data).toMatchObject({
      message: "Resource not accessible by personal access token",
      documentation_url: "https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference",
    });

    // Editing works with issues write access, whoever wrote the comment.
    const comment = peer.addComment(REPO, 1, { body: "typo", author: "alice", association: "OWNER" });
    const edited = await octokit(peer, ISSUES_TOKEN).rest.issues.updateComment({
      ...repoArgs,
      comment_id: comment.id as number,
      body: "fixed",
    });
    expect(edited.data.body).toBe("fixed");
    expect(peer.comments(REPO, 1)[0]?.body).toBe("fixed");
  });

  it("refuses bad seeding with an error that says what is wrong", async () => {
    const seed = { issuesToken: "fresh-issues-1", coderToken: "fresh-coder-1", bot: { login: BOT } };
    await expect(peer.addRepo("no-slash", seed)).rejects.toThrow('repository must be "owner/name"');
    await expect(peer.addRepo(REPO, seed)).rejects.toThrow(`repository ${REPO} already exists`);
    await expect(
      peer.addRepo("acme/second", { issuesToken: ISSUES_TOKEN, coderToken: "x-coder-123", bot: { login: "someone" } }),
    ).rejects.toThrow("already registered for thopter-bot");
    await expect(peer.addRepo("acme/third", { ...seed, coderToken: seed.issuesToken })).rejects.toThrow("must differ");
    // A refused seed leaves nothing behind: the name is still free.
    await peer.addRepo("acme/second", seed);
    expect(() => peer.addUser("not a login!")).toThrow('"not a login!" is not a valid GitHub login');
    expect(() => peer.createIssue(REPO, { title: " ", author: "alice" })).toThrow("needs a non-empty title");
    expect(() => peer.addComment(REPO, 42, { body: "hi", author: "alice" })).toThrow(`${REPO} has no issue #42`);
    expect(() => peer.createIssue("acme/missing", { title: "t", author: "alice" })).toThrow("seed it with addRepo");
    expect(() => peer.editComment(1, "x")).toThrow("no comment 1");
  });

  it("refuses an empty comment with 422 Validation Failed", async () => {
    peer.createIssue(REPO, { title: "x", author: "alice" });
    const error = await octokit(peer, ISSUES_TOKEN)
      .request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { ...repoArgs, issue_number: 1, body: "" })
      .catch((e: unknown) => e);
    expect((error as RequestError).status).toBe(422);
    expect((error as RequestError).response?.data).toMatchObject({
      message: "Validation Failed",
      errors: [{ resource: "IssueComment", field: "body", code: "missing_field" }],
    });
    expect(peer.comments(REPO, 1)).toEqual([]);
  });
});
