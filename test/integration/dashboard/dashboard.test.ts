import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, resolve } from "node:path";
import { machineViewers } from "@thopter/hub/dashboard/index";
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { addThopter, BEARER, browserSuite, openPage, requestSource, rowState } from "./harness.js";

// The dashboard in headless Chromium: what people see, live updates, embedded viewers, a large swarm.
const SCREENSHOT = resolve(import.meta.dirname, "../../../docs/dashboard.png");
const { browser, start } = browserSuite();
const open = (url: string, login?: boolean) => openPage(browser(), url, login);

describe("dashboard", () => {
  it("says plainly when there is nothing yet, and warns when token isolation is off", async () => {
    const d = await start({ isolation: "off" });
    const page = await open(d.url);
    await expect(page.locator("body").textContent()).resolves.toContain("No thopters yet");
    await expect(page.locator("#queue").textContent()).resolves.toContain("No requests waiting");
    await expect(page.locator("#status").textContent()).resolves.toContain("Capacity: 0 / 10 active");
    await expect(page.locator(".warning").textContent()).resolves.toContain("Token isolation is off");
    await page.context().close();
  });

  it("shows the swarm and the queue (and saves the README screenshot)", async () => {
    const d = await start();
    await addThopter(d.registry, "t-spin", { state: "working", issueNumber: 12, issueTitle: "Widgets spin backwards" });
    await addThopter(d.registry, "t-docs", { state: "done", issueNumber: 9, issueTitle: "Document the widget API" });
    await d.registry.update("t-docs", {
      patch: {
        pullRequestUrl: "https://github.com/acme/widgets/pull/31",
        summary: "Documented every endpoint.",
        pushedAt: new Date().toISOString(),
      },
    });
    // What the observer reports for a running test (the row says it in words).
    await d.registry.appendTimeline("t-spin", {
      source: "observer",
      kind: "PreToolUse",
      state: "working",
      message: "PreToolUse: Bash npm test -- --run spin",
    });
    await addThopter(d.registry, "t-db", { state: "blocked", issueNumber: 15, issueTitle: "Migrate to Postgres" });
    await d.registry.appendTimeline("t-db", {
      source: "broker",
      kind: "report_status",
      state: "blocked",
      message: "The migration needs a DATABASE_URL for a test database.",
    });
    await addThopter(d.registry, "t-boot", { state: "booting", issueNumber: 17, issueTitle: "Flaky login test" });
    await d.queue.create(requestSource(21, 2101), "Add dark mode", {
      kind: "start",
      gc: "team",
      prompt: "plan",
      count: 1,
      instructions: "plan first",
    });

    const page = await open(d.url);
    await expect(page.locator("tr[data-id]").count()).resolves.toBe(4);
    await expect(rowState(page, "t-docs")).resolves.toBe("done");
    await expect(page.locator('tr[data-id="t-docs"] a', { hasText: "PR" }).getAttribute("href")).resolves.toBe(
      "https://github.com/acme/widgets/pull/31",
    );
    await expect(page.locator('tr[data-id="t-spin"]').textContent()).resolves.toContain("Widgets spin backwards");
    await expect(page.locator("#queue").textContent()).resolves.toMatch(
      /acme\/widgets#21[\s\S]*Add dark mode[\s\S]*alice/,
    );
    await expect(page.locator("#status").textContent()).resolves.toMatch(/Running[\s\S]*Capacity: 2 \/ 10 active/);
    await expect(page.locator(".warning").count()).resolves.toBe(0);
    await page.locator("#live-dot.on").waitFor();
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // What the observer reports when a thopter boots with DANGEROUSLY_SKIP_FIREWALL=I_UNDERSTAND: shown live.
    await d.registry.appendTimeline("t-boot", {
      source: "observer",
      kind: "firewall",
      state: "booting",
      message: "firewall: FIREWALL DISABLED (DANGEROUSLY_SKIP_FIREWALL=I_UNDERSTAND)",
    });
    await page.locator('tr[data-id="t-boot"] .nofirewall').waitFor({ timeout: 10_000 });
    await expect(page.locator(".warning").textContent()).resolves.toContain(
      "1 thopter runs without the egress firewall",
    );
    await expect(page.locator("tr .nofirewall").count()).resolves.toBe(1);
    await page.context().close();
  });

  it("updates a row live, without a reload, and adds new thopters", async () => {
    const d = await start();
    await addThopter(d.registry, "t-live", { state: "working" });
    const page = await open(d.url);
    await page.locator("#live-dot.on").waitFor();
    await page.evaluate(() => {
      (globalThis as unknown as { notReloaded: boolean }).notReloaded = true;
    });

    await d.registry.transition("t-live", "waiting", "Notification (permission)");
    await page.locator('tr[data-id="t-live"] .badge', { hasText: "waiting" }).waitFor({ timeout: 10_000 });
    await expect(page.locator('tr[data-id="t-live"]').textContent()).resolves.toContain("waiting for your permission");
    await addThopter(d.registry, "t-new", { state: "booting" });
    await page.locator('tr[data-id="t-new"]').waitFor({ timeout: 10_000 });
    await expect(page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).resolves.toBe(
      true,
    );
    await page.context().close();
  });

  it("shows an issue title with markup as text and never runs it", async () => {
    const d = await start();
    const title = `<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> & "quotes"`;
    await addThopter(d.registry, "t-xss", { issueTitle: title });
    await d.registry.update("t-xss", { patch: { summary: "<b>bold</b>", pullRequestUrl: "javascript:alert(1)" } });
    for (const path of ["/", "/thopters/t-xss"]) {
      const page = await open(d.url + path);
      await expect(page.locator('tr[data-id="t-xss"] .title').textContent()).resolves.toBe(title);
      await expect(page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).resolves.toBeUndefined();
      await expect(page.locator('a[href^="javascript:"]').count()).resolves.toBe(0);
      await page.context().close();
    }
    // Live updates carry the same escaped markup.
    const page = await open(d.url);
    await page.locator("#live-dot.on").waitFor();
    await d.registry.transition("t-xss", "waiting", `<img src=x onerror="window.pwned = 3">`);
    await page.locator('tr[data-id="t-xss"] .badge', { hasText: "waiting" }).waitFor({ timeout: 10_000 });
    await expect(page.locator('tr[data-id="t-xss"] td[data-label="state"] small').textContent()).resolves.toBe(
      `<img src=x onerror="window.pwned = 3">`,
    );
    await expect(page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).resolves.toBeUndefined();
    await page.context().close();
  });

  it("shows a PR's rounds: every thopter that worked on the branch, oldest first, each linked", async () => {
    const d = await start();
    await addThopter(d.registry, "t-round1", { issueNumber: 7, state: "done" });
    await addThopter(d.registry, "t-round2", {
      issueNumber: 12,
      issueTitle: "Fix the wobble (PR)",
      branch: "thopter/7--t-round1",
    });
    await addThopter(d.registry, "t-other", { issueNumber: 7 });
    const page = await open(`${d.url}/thopters/t-round2`);
    const items = await page.locator("#rounds li").allTextContents();
    expect(items).toEqual([
      expect.stringMatching(/^round 1: t-round1 \(done, #7\)/),
      expect.stringMatching(/^round 2: t-round2 \(this one/),
    ]);
    await expect(page.locator("#rounds a").getAttribute("href")).resolves.toBe("/thopters/t-round1");
    await page.context().close();
    const single = await open(`${d.url}/thopters/t-other`);
    await expect(single.locator("#rounds").count()).resolves.toBe(0);
    await single.context().close();
  });

  it("embeds the thopter's terminal and session log with a freshly minted token, and says when there are none", async () => {
    // Stands in for the thopter's terminal and log servers: shows which token it was opened with.
    const thopterServer = createServer((req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(
        `<p>served ${new URL(req.url ?? "/", "http://x").pathname} with ${new URL(req.url ?? "/", "http://x").searchParams.get("token")}</p>`,
      );
    });
    await new Promise<void>((resolve) => thopterServer.listen(0, "127.0.0.1", resolve));
    const port = (thopterServer.address() as AddressInfo).port;
    let minted = 0;
    const d = await start({
      viewers: machineViewers({
        ports: { terminal: port, sessionLog: port },
        mint: (id, scope) => `${id}.${scope}.${++minted}`,
      }),
    });
    await addThopter(d.registry, "t-view", { state: "working" });
    await d.registry.setMachine(
      "t-view",
      { provider: "local", id: "m-view", address: "127.0.0.1" },
      "machine attached",
    );
    await addThopter(d.registry, "t-none", { state: "provisioning" });
    await d.registry.update("t-view", {
      entry: { source: "broker", kind: "report_status", state: "working", message: "halfway there" },
    });

    const page = await open(`${d.url}/thopters/t-view`);
    await expect(page.frameLocator('iframe[title="terminal"]').locator("p").textContent()).resolves.toMatch(
      /^served \/ with t-view\.terminal\.\d+$/,
    );
    await expect(page.frameLocator('iframe[title="session log"]').locator("p").textContent()).resolves.toMatch(
      /^served \/ with t-view\.log\.\d+$/,
    );
    await expect(page.locator(".timeline").textContent()).resolves.toContain("halfway there");
    await page.locator("#live-dot.on").waitFor();
    await d.registry.update("t-view", {
      entry: { source: "broker", kind: "report_status", state: "working", message: "almost done" },
    });
    await page.locator(".timeline", { hasText: "almost done" }).waitFor({ timeout: 10_000 });
    await page.context().close();

    const none = await open(`${d.url}/thopters/t-none`);
    await expect(none.locator("body").textContent()).resolves.toContain("no machine yet");
    await expect(none.locator("iframe").count()).resolves.toBe(0);
    await none.context().close();
    thopterServer.closeAllConnections();
    await new Promise((resolve) => thopterServer.close(resolve));
  });

  it("drops live sockets that stop answering pings and keeps the others", async () => {
    const d = await start({ heartbeatMs: 100 });
    const connect = (autoPong: boolean) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`${d.url.replace("http", "ws")}/dashboard/live`, { headers: BEARER, autoPong });
        ws.once("open", () => resolve(ws)).once("error", reject);
      });
    const healthy = await connect(true);
    const silent = await connect(false);
    await new Promise((resolve) => silent.once("close", resolve));
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(healthy.readyState).toBe(WebSocket.OPEN);
    expect(d.dashboard.connections).toBe(1);
    healthy.terminate();
  });

  it("pages and filters a large swarm", async () => {
    const d = await start();
    for (let i = 0; i < 120; i++) {
      await addThopter(d.registry, `p${String(i).padStart(3, "0")}`, {
        state: i % 3 === 0 ? "done" : "working",
        repo: i % 2 === 0 ? "acme/widgets" : "acme/gears",
      });
    }
    const page = await open(d.url);
    await expect(page.locator("tr[data-id]").count()).resolves.toBe(50);
    await expect(page.locator(".pages").textContent()).resolves.toContain("page 1 of 3");
    await page.locator('a[rel="next"]').click();
    await expect(page.locator(".pages").textContent()).resolves.toContain("page 2 of 3");
    await page.goto(`${d.url}/?state=done&repo=acme%2Fgears`);
    const expected = Array.from({ length: 120 }, (_, i) => i).filter((i) => i % 3 === 0 && i % 2 === 1).length;
    await expect(page.locator("tr[data-id]").count()).resolves.toBe(expected);
    await expect(page.locator("tr[data-id] .badge", { hasText: "working" }).count()).resolves.toBe(0);
    await page.goto(`${d.url}/?state=failed`);
    await expect(page.locator("body").textContent()).resolves.toContain("No thopters match these filters");
    await page.context().close();
  }, 60_000);
});
