import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../../helpers/browser.js";
import type { GithubPeer } from "../../peers/github/index.js";
import { BOT, CODER_TOKEN, HUMAN_TOKEN, NAME, OWNER, octokit, REPO, seededPeer } from "./harness.js";

const run = promisify(execFile);
const HOSTILE_TITLE = `<script>window.pwned = "title"</script> & "quotes"`;
const HOSTILE_BODY = `<img src=x onerror="window.pwned='body'"> see javascript:window.pwned='link' and https://example.test/a?b=1&c=2`;

let peer: GithubPeer;
let browser: Browser;
let work: string;
let issueUrl = "";
let pullUrl = "";
let commentId = 0;

/** The human owner pushes a branch that changes README.md (a real git push through the peer's git bridge). */
async function pushBranch(branch: string): Promise<void> {
  const url = new URL(peer.gitUrl(REPO));
  url.username = "x-access-token";
  url.password = HUMAN_TOKEN;
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_TERMINAL_PROMPT: "0" };
  const git = (...args: string[]) =>
    run("git", ["-c", "user.name=Ann", "-c", "user.email=a@x.test", ...args], { cwd: work, env });
  await git("clone", "--quiet", url.toString(), "clone");
  const dir = join(work, "clone");
  await writeFile(join(dir, "README.md"), "# app\n\nNow with <b>words</b>.\n");
  await git("-C", dir, "checkout", "--quiet", "-b", branch);
  await git("-C", dir, "commit", "--quiet", "-am", "Explain the app <em>well</em>");
  await git("-C", dir, "push", "--quiet", "origin", `HEAD:refs/heads/${branch}`);
}

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
  await pushBranch("thopter/1--fix");
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
    expect(await readdir(work)).toEqual(["clone"]);
    // The REST API is unchanged: an unknown API path is still GitHub's JSON 404.
    expect((await fetch(`${base}/repos/${REPO}/nothing`)).headers.get("content-type")).toContain("application/json");
    peer.takeViolations();
  });
});
