import type { ThopterRecord } from "@thopter/protocol";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { BUGGY, FIXED, REPO, SUMMARY, type World } from "../demo/world.js";
import { launchBrowser } from "../helpers/browser.js";
import { completion, reactions, until } from "./harness.js";

/** What the loop left for the user to see. */
export interface LoopResult {
  thopter: ThopterRecord;
  pullUrl: string;
  /** The thopter's dashboard page, as the completion comment links it. */
  page: string;
}

/**
 * `/thopter` by the owner, then everything a user sees on GitHub: 👀 and 🚀 on the command, the fix on the pushed
 * branch (default branch untouched), one draft PR, one completion comment with its branch, compare, PR and dashboard
 * links; and on the dashboard in Chromium, opened while the thopter works: its row turning `done` live, with the PR
 * link and its last report, its page with Claude's summary, and (`sessionLog`) the session log the comment links to.
 */
export async function runLoop(world: World, options: { sessionLog: boolean }): Promise<LoopResult> {
  const command = world.comment("/thopter");
  await until(() => reactions(world, command, "eyes") === 1, 20_000, "👀 on the command");
  await until(() => reactions(world, command, "rocket") === 1, 30_000, "🚀 on the command");

  const browser = await launchBrowser();
  try {
    // One browser context, logged in once with the login URL the hub prints: its pages share the session cookie.
    const context = await browser.newContext();
    const swarm = await context.newPage();
    await swarm.goto(world.hub.loginUrl);
    await swarm.locator("#live-dot.on").waitFor({ timeout: 10_000 });
    await markNotReloaded(swarm);

    const comment = await completion(world);
    const [thopter] = await world.thopters();
    expect(thopter).toMatchObject({ state: "done", repo: REPO, issueNumber: world.issue, summary: SUMMARY });

    expect(await world.peer.readFile(REPO, thopter!.branch, "src/add.js")).toBe(FIXED);
    expect(await world.peer.readFile(REPO, "main", "src/add.js")).toBe(BUGGY);
    const [head] = await world.peer.log(REPO, thopter!.branch);
    expect(head?.subject).toBe("Fix add(): add, do not subtract");

    const pulls = world.peer.pulls(REPO);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({ draft: true, head: { ref: thopter!.branch }, base: { ref: "main" } });
    const pullUrl = String(pulls[0]!.html_url);

    expect(world.replies()).toEqual([comment]);
    expect(comment).toContain(SUMMARY);
    expect(comment).toContain(`${world.peer.url}/${REPO}/tree/${thopter!.branch}`);
    expect(comment).toContain(`${world.peer.url}/${REPO}/compare/main...${thopter!.branch}`);
    expect(comment).toContain(`Pull request: ${pullUrl}`);
    const page = `${world.config.HUB_PUBLIC_URL}/thopters/${thopter!.id}`;
    expect(comment).toContain(`Dashboard: ${page}`);
    expect(comment).toContain(`Session log: ${page}/log`);
    expect(comment).toContain(`Terminal: ${page}/terminal`);
    expect(comment).toMatch(/ran for \d+ (s|min)/);

    // The open dashboard caught up by itself.
    const row = swarm.locator(`tr[data-id="${thopter!.id}"]`);
    await row.locator(".badge", { hasText: "done" }).waitFor({ timeout: 10_000 });
    await expect(row.locator("a", { hasText: "PR" }).getAttribute("href")).resolves.toBe(pullUrl);
    await expect(row.locator(".report").count()).resolves.toBe(1);
    expect(await wasReloaded(swarm)).toBe(false);

    const detail = await context.newPage();
    const res = await detail.goto(page);
    expect(res?.status()).toBe(200);
    await expect(detail.locator("body").textContent()).resolves.toContain(SUMMARY);

    if (options.sessionLog) {
      // The comment's session-log link leads, through the dashboard, to Claude's session on the thopter.
      const log = await context.newPage();
      expect((await log.goto(`${page}/log`))?.status()).toBe(200);
      expect(new URL(log.url()).origin).not.toBe(new URL(page).origin);
      await log.getByText("push_branch").first().waitFor({ timeout: 15_000 });
    }
    return { thopter: thopter!, pullUrl, page };
  } finally {
    await browser.close();
  }
}

/** Leaves a mark in the page's window that a reload would wipe. */
function markNotReloaded(page: Page): Promise<void> {
  return page.evaluate(() => {
    (globalThis as unknown as { notReloaded: boolean }).notReloaded = true;
  });
}

function wasReloaded(page: Page): Promise<boolean> {
  return page.evaluate(() => !(globalThis as unknown as { notReloaded?: boolean }).notReloaded);
}
