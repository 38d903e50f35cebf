import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../../helpers/browser.js";
import type { GithubPeer } from "../../peers/github/index.js";
import { BOT, CODER_TOKEN, HUMAN_TOKEN, NAME, OWNER, octokit, pushFiles, REPO, seededPeer } from "./harness.js";

const HOSTILE_TITLE = `<script>window.pwned = "title"</script> & "quotes"`;
const HOSTILE_BODY = `<img src=x onerror="window.pwned='body'"> see javascript:window.pwned='link' and https://example.test/a?b=1&c=2`;

let peer: GithubPeer;
let browser: Browser;
let work: string;
let issueUrl = "";
let pullUrl = "";
let commentId = 0;

beforeAll(async () => {
  peer = await seededPeer();
  work = await mkdtemp(join(tmpdir(), "github-peer-web-"));
  browser = await launchBrowser();
  const issue = peer.createIssue(REPO, {
    title: HOSTILE_TITLE,
    body: HOSTILE_BODY,
    author: "acme",
    association: "OWNER",
  });
  issueUrl = String(issue.html_url);
  const comment = peer.addComment(REPO, Number(issue.number), {
    body: `Reply <b>bold</b> ${HOSTILE_BODY}`,
    author: BOT,
  });
  commentId = Number(comment.id);
  const rest = octokit(peer, HUMAN_TOKEN);
  await rest.request("POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", {
    owner: OWNER,
    repo: NAME,
    comment_id: commentId,
    content: "rocket",
  });
  await pushFiles(
    peer,
    "thopter/1--fix",
    { "README.md": "# app\n\nNow with <b>words</b>.\n" },
    "Explain the app <em>well</em>",
  );
  const pull = await octokit(peer, CODER_TOKEN).request("POST /repos/{owner}/{repo}/pulls", {
    owner: OWNER,
    repo: NAME,
    title: HOSTILE_TITLE,
    head: "thopter/1--fix",
    base: "main",
    body: "Fixes it.",
    draft: true,
  });
  pullUrl = pull.data.html_url;
});

afterAll(async () => {
  await browser?.close();
  peer.assertClean();
  await peer?.close();
  await rm(work, { recursive: true, force: true });
});

/** Opens `url` in Chromium: the response, the page, and whether any injected script ran. */
async function open(url: string): Promise<{ status: number; type: string; page: Page; pwned: unknown }> {
  const page = await browser.newPage();
  const response = await page.goto(url);
  const pwned = await page.evaluate("window.pwned");
  return { status: response!.status(), type: response!.headers()["content-type"] ?? "", page, pwned };
}

describe("the GitHub peer's web pages (the html_url addresses)", () => {
  it("an issue page shows the title, the body and each comment as written, with reactions, running nothing", async () => {
    const { status, type, page, pwned } = await open(issueUrl);
    expect([status, type]).toEqual([200, "text/html; charset=utf-8"]);
    expect(pwned).toBeUndefined();
    expect(await page.locator("h1").textContent()).toContain(HOSTILE_TITLE);
    expect(await page.locator("#issue-body .body").textContent()).toBe(HOSTILE_BODY);
    const reply = page.locator(`#issuecomment-${commentId}`);
    expect(await reply.textContent()).toContain(`Reply <b>bold</b>`);
    expect(await reply.locator(".reactions").textContent()).toContain("🚀 1");
    // Plain http(s) URLs become links; a javascript: one stays text.
    const anchors = await page.locator(".body a").all();
    const links = await Promise.all(anchors.map((a) => a.getAttribute("href")));
    expect(links).toEqual(["https://example.test/a?b=1&c=2", "https://example.test/a?b=1&c=2"]);
    await page.close();
  });

  it("a pull request page shows its branches and the diff lines; .diff is the raw diff", async () => {
    const { status, page, pwned } = await open(pullUrl);
    expect(status).toBe(200);
    expect(pwned).toBeUndefined();
    const text = await page.locator("body").textContent();
    expect(text).toContain("draft");
    expect(text).toMatch(/into main\s+from thopter\/1--fix/);
    expect(await page.locator("pre.diff .add").allTextContents()).toContain("+Now with <b>words</b>.");
    const raw = await fetch(`${pullUrl}.diff`);
    expect(raw.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await raw.text()).toContain("+Now with <b>words</b>.");
    // The issue address of a pull request leads to the pull request, as on github.com.
    const moved = await open(pullUrl.replace("/pull/", "/issues/"));
    expect(moved.page.url()).toBe(pullUrl);
    await Promise.all([page.close(), moved.page.close()]);
  });

  it("a pull request page shows reviews, line comments on their lines, and the head's checks, running nothing", async () => {
    const number = Number(pullUrl.split("/").at(-1));
    await peer.reviews.submitReview(REPO, number, { body: HOSTILE_BODY, author: "acme", state: "CHANGES_REQUESTED" });
    const line = await peer.reviews.addComment(REPO, number, {
      body: "/thopter say <i>more</i>",
      author: "acme",
      path: "README.md",
      line: 3,
    });
    await peer.reviews.addCheckRun(REPO, {
      ref: "thopter/1--fix",
      name: "test",
      conclusion: "failure",
      title: "2 failed",
    });
    await peer.reviews.addStatus(REPO, { ref: "thopter/1--fix", context: "ci/lint", state: "success" });
    const { page, pwned } = await open(pullUrl);
    expect(pwned).toBeUndefined();
    const text = await page.locator("body").textContent();
    expect(text).toContain("acme changes requested");
    expect(await page.locator(`#discussion_r${line.id} .body`).textContent()).toBe("/thopter say <i>more</i>");
    expect(text).toContain("on README.md:3");
    expect(await page.locator("li[id^=check-]").textContent()).toMatch(/test:\s*failure\s*2 failed/);
    expect(await page.locator("li[id^=status-]").textContent()).toMatch(/ci\/lint:\s*success/);
    await page.close();
  });

  it("a branch page lists its files and commits; the compare page its commits and diff", async () => {
    const base = new URL(issueUrl).origin;
    const tree = await open(`${base}/${REPO}/tree/thopter/1--fix`);
    expect(tree.status).toBe(200);
    const treeText = await tree.page.locator("body").textContent();
    expect(treeText).toContain("src/index.ts");
    expect(treeText).toContain("Explain the app <em>well</em>");
    await tree.page.getByText("Compare with main").click();
    await tree.page.waitForURL(`${base}/${REPO}/compare/main...thopter/1--fix`);
    expect(await tree.page.locator("body").textContent()).toContain("1 commit(s) on thopter/1--fix");
    expect(await tree.page.locator("pre.diff .add").allTextContents()).toContain("+Now with <b>words</b>.");
    await tree.page.close();
  });

  it("answers an unknown issue, branch or repository with a readable 404, and never hands git a URL's option", async () => {
    const base = new URL(issueUrl).origin;
    const marker = join(work, "written-by-git");
    for (const path of [
      `/${REPO}/issues/999`,
      `/${REPO}/tree/nope`,
      `/${REPO}/compare/--output=${marker}...main`,
      `/${REPO}/compare/main...--output=${marker}`,
      "/nobody/nothing",
    ]) {
      const res = await fetch(base + path);
      expect([path, res.status, res.headers.get("content-type")]).toEqual([path, 404, "text/html; charset=utf-8"]);
      expect(await res.text()).toContain("<h1>404</h1>");
    }
    expect(await readdir(work)).toEqual([]);
    // The REST API is unchanged: an unknown API path is still GitHub's JSON 404.
    expect((await fetch(`${base}/repos/${REPO}/nothing`)).headers.get("content-type")).toContain("application/json");
    peer.takeViolations();
  });
});
