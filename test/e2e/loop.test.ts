import { describe, expect, it } from "vitest";
import { SUMMARY } from "../demo/world.js";
import { launchBrowser } from "../helpers/browser.js";
import { asRoot, ROOT_ONLY, useWorld } from "./harness.js";
import { runLoop } from "./loop.js";

// The demo's loop as a user sees it: on the issue, on the repository, and on the dashboard.
const world = useWorld();

describe.skipIf(!asRoot)(
  `/thopter on an issue, local provider, real Claude CLI on the scripted model ${ROOT_ONLY}`,
  () => {
    it("reacts 👀 and 🚀, pushes the fix, opens a draft PR, comments with links, and the dashboard shows done", async () => {
      const { thopter, pullUrl, page } = await runLoop(world);

      // The dashboard, in a browser, at the links the comment gives.
      const browser = await launchBrowser();
      try {
        const tab = await browser.newPage();
        await tab.goto(`${world.config.HUB_PUBLIC_URL}/`);
        const row = tab.locator(`tr[data-id="${thopter.id}"]`);
        await expect(row.locator(".badge").first().textContent()).resolves.toContain("done");
        await expect(row.locator("a", { hasText: "PR" }).getAttribute("href")).resolves.toBe(pullUrl);
        const detail = await browser.newPage();
        const res = await detail.goto(page);
        expect(res?.status()).toBe(200);
        await expect(detail.locator("body").textContent()).resolves.toContain(SUMMARY);
      } finally {
        await browser.close();
      }
    }, 150_000);
  },
);
