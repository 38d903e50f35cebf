import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LogArchive } from "@thopter/hub/logs/archive";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../../helpers/browser.js";
import { tempDir } from "../../helpers/tmp.js";
import { TRANSCRIPTS } from "../agent-web/transcripts.js";
import { addThopter, BEARER, type DashboardSetup, startDashboard } from "./harness.js";

// The thopter page of a gone thopter, in Chromium, with the hub's archived copy of its logs: a real Claude Code
// transcript (with line types the log folds) and a boot log, rendered by the session-log server's own page.

const TRANSCRIPT = readFileSync(join(TRANSCRIPTS, "claude-code-transcript.real.short.v2.1.38.jsonl"), "utf8");
const OTHER_TYPES = ['{"type":"mode","mode":"plan"}', '{"type":"atis-latch"}', '{"type":"api-request"}'];
const MALFORMED = "this line is not JSON";
/** What the agent can put into its transcript, now shown on the hub's own origin (where the dashboard cookie is). */
const INJECTION = `<img src=x onerror="parent.document.title='pwned'"><script>parent.document.title='pwned'</script>`;
const injected = JSON.stringify({
  type: "user",
  timestamp: new Date().toISOString(),
  message: { role: "user", content: INJECTION },
});
const bootLine = (msg: string, extra = {}) =>
  `${JSON.stringify({ level: 30, time: Date.now(), pid: 7, msg, ...extra })}\n`;

describe("archived logs on the thopter page", () => {
  let setup: DashboardSetup;
  let archive: LogArchive;
  let browser: Browser;
  let page: Page;

  async function gone(id: string): Promise<void> {
    await addThopter(setup.registry, id, { state: "done" });
    await setup.registry.transition(id, "stopping", "stopped from the dashboard");
    await setup.registry.transition(id, "gone", "machine destroyed");
  }

  beforeAll(async () => {
    archive = new LogArchive({ dir: tempDir("thopter-archive-"), maxBytes: 1024 * 1024, retentionDays: 30 });
    setup = await startDashboard({ archive });
    await gone("t-kept");
    const session = Buffer.from(`${TRANSCRIPT}${OTHER_TYPES.join("\n")}\n${MALFORMED}\n${injected}\n`);
    await archive.append("t-kept", "session-0f2c", 0, session);
    await archive.append("t-kept", "boot", 0, Buffer.from(bootLine("job: started", { step: "job" })));
    await archive.append(
      "t-kept",
      "boot",
      0,
      Buffer.from(
        bootLine("job: started", { step: "job" }) +
          bootLine("boot done: claude runs in tmux session thopter", { ms: 1234 }),
      ),
    );
    await gone("t-full");
    await archive.append("t-full", "session-a", 0, Buffer.from(`${TRANSCRIPT}`));
    await archive.append("t-full", "session-a", Buffer.byteLength(TRANSCRIPT), Buffer.alloc(1024 * 1024, 0x61));
    await gone("t-none");
    browser = await launchBrowser();
    page = await (await browser.newContext()).newPage();
    await page.goto(setup.loginUrl);
  });
  afterAll(async () => {
    await browser?.close();
    await setup?.close();
  });

  it("frames the archived session log, rendered and folded as the live one, and says until when it is kept", async () => {
    expect((await page.goto(`${setup.url}/thopters/t-kept`))?.status()).toBe(200);
    const until = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    await expect(page.locator("p.archived").textContent()).resolves.toContain(`kept by the hub until ${until}`);
    const log = page.frameLocator('iframe[title="session log (archived)"]');
    await log.locator(".entry.user").first().waitFor({ timeout: 10_000 });
    await expect(log.locator(".entry.assistant").count()).resolves.toBeGreaterThan(0);
    // The CLI's other line types fold quietly; the one line that is not JSON shows as such, once.
    await expect(log.locator("details.entry.other > summary").last().textContent()).resolves.toBe("3 other entries");
    await expect(log.locator(".entry.raw").count()).resolves.toBe(1);
    await expect(log.locator("p.notice").textContent()).resolves.toContain(`until ${until}`);
    // The agent's markup is text: shown as written, never run.
    await log.getByText(INJECTION).first().waitFor({ timeout: 5_000 });
    await expect(log.locator("img[src=x]").count()).resolves.toBe(0);
    expect(await page.title()).not.toBe("pwned");

    await page.getByText("open the archived boot log").click();
    await page.getByText("boot done").first().waitFor({ timeout: 10_000 });
    // Each byte once: the retried first line is not shown twice.
    await expect(page.locator(".entry.boot").count()).resolves.toBe(2);
    await expect(page.locator(".totals").first().textContent()).resolves.toContain("done in 1.2 s");
  }, 60_000);

  it("says when the archive reached its cap and what was dropped", async () => {
    expect((await page.goto(`${setup.url}/thopters/t-full`))?.status()).toBe(200);
    await expect(page.locator("p.archived").textContent()).resolves.toContain("size limit (LOG_ARCHIVE_MAX_MB)");
    const log = page.frameLocator('iframe[title="session log (archived)"]');
    await log.locator(".entry.user").first().waitFor({ timeout: 10_000 });
  }, 30_000);

  it("sends the comment's log links to the archive, and keeps it behind the dashboard token", async () => {
    const location = async (path: string) => {
      const res = await fetch(`${setup.url}${path}`, { redirect: "manual", headers: BEARER });
      await res.body?.cancel();
      return [res.status, res.headers.get("location")];
    };
    expect(await location("/thopters/t-kept/log")).toEqual([302, "/thopters/t-kept/archive/"]);
    expect(await location("/thopters/t-kept/boot-log")).toEqual([302, "/thopters/t-kept/archive/boot-log"]);
    expect((await location("/thopters/t-kept/terminal"))[0]).toBe(404);
    expect(await location("/thopters/t-kept/archive")).toEqual([301, "/thopters/t-kept/archive/"]);
    expect((await location("/thopters/t-none/archive/"))[0]).toBe(404);
    expect((await location("/thopters/..%2F..%2Fetc/archive/"))[0]).toBe(404);
    expect((await location("/thopters/t-none/archive/events"))[0]).toBe(404);
    const page = await (await fetch(`${setup.url}/thopters/t-none`, { headers: BEARER })).text();
    expect(page).toContain("This thopter has stopped");

    for (const path of [
      "archive/",
      "archive/boot-log",
      "archive/events",
      "archive/boot-log/events",
      "archive/app.js",
    ]) {
      const res = await fetch(`${setup.url}/thopters/t-kept/${path}`, { redirect: "manual" });
      expect(res.status, path).toBe(401);
      expect(await res.text()).not.toContain("boot done");
    }
  });
});
