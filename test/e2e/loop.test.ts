import { describe, expect, it } from "vitest";
import { BUGGY, FIXED, REPO, SUMMARY } from "../demo/world.js";
import { launchBrowser } from "../helpers/browser.js";
import { completion, reactions, until, useWorld } from "./harness.js";

// The demo's loop as a user sees it: on the issue, on the repository, and on the dashboard.
const world = useWorld();

describe("/thopter on an issue, local provider, real Claude CLI on the scripted model", () => {
  it("reacts 👀 and 🚀, pushes the fix, opens a draft PR, comments with links, and the dashboard shows done", async () => {
    const command = world.comment("/thopter");
    await until(() => reactions(world, command, "eyes") === 1, 20_000, "👀 on the command");
    await until(() => reactions(world, command, "rocket") === 1, 30_000, "🚀 on the command");

    const comment = await completion(world);
    const [thopter] = await world.thopters();
    expect(thopter).toMatchObject({ state: "done", repo: REPO, issueNumber: world.issue, summary: SUMMARY });
    const id = thopter!.id;

    // The branch holds the fix; the default branch is untouched.
    expect(await world.peer.readFile(REPO, thopter!.branch, "src/add.js")).toBe(FIXED);
    expect(await world.peer.readFile(REPO, "main", "src/add.js")).toBe(BUGGY);
    const [head] = await world.peer.log(REPO, thopter!.branch);
    expect(head?.subject).toBe("Fix add(): add, do not subtract");

    const pulls = world.peer.pulls(REPO);
    expect(pulls).toHaveLength(1);
    const pull = pulls[0]!;
    expect(pull).toMatchObject({ draft: true, head: { ref: thopter!.branch }, base: { ref: "main" } });

    // The completion comment: state, summary, compare link, PR link, dashboard links; posted once.
    expect(world.replies()).toHaveLength(1);
    expect(comment).toContain(SUMMARY);
    expect(comment).toContain(`${world.peer.url}/${REPO}/compare/main...${thopter!.branch}`);
    expect(comment).toContain(`Pull request: ${pull.html_url}`);
    const page = `${world.config.HUB_PUBLIC_URL}/thopters/${id}`;
    expect(comment).toContain(`Dashboard: ${page}`);
    expect(comment).toContain(`Session log: ${page}/log`);

    // The dashboard, in a browser, at the link the comment gives.
    const browser = await launchBrowser();
    try {
      const tab = await browser.newPage();
      await tab.goto(`${world.config.HUB_PUBLIC_URL}/`);
      const row = tab.locator(`tr[data-id="${id}"]`);
      await expect(row.locator(".badge").first().textContent()).resolves.toContain("done");
      await expect(row.locator("a", { hasText: "PR" }).getAttribute("href")).resolves.toBe(pull.html_url);
      const detail = await browser.newPage();
      const res = await detail.goto(page);
      expect(res?.status()).toBe(200);
      await expect(detail.locator("body").textContent()).resolves.toContain(SUMMARY);
    } finally {
      await browser.close();
    }
  }, 150_000);
});
