import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { statusFromHook } from "@thopter/agent";
import { applyBrokerReport, applyStatus } from "@thopter/hub/collector/apply";
import type { Registry } from "@thopter/hub/registry/index";
import type { BrokerReport } from "@thopter/protocol";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { addThopter, browserSuite, type DashboardSetup, REPO, TOKEN } from "./harness.js";

// The dashboard as a person reads it: words instead of hook names, times they can read, links that open something,
// a reports table they can filter, a page that fits a phone, and a banner that names the real cause.
const CWD = "/workspace/repo";
const SCREENSHOTS = process.env.DASHBOARD_SCREENSHOTS;
const { browser, start } = browserSuite();

async function open(d: DashboardSetup, path: string, width = 1400): Promise<Page> {
  const context = await browser().newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${d.url}/?token=${TOKEN}`);
  await page.goto(d.url + path);
  return page;
}

/** What the observer sends for a hook, through the collector's own mapping, as a real session would. */
async function hook(registry: Registry, id: string, input: Record<string, unknown>): Promise<void> {
  const report = statusFromHook({ cwd: CWD, session_id: "s1", ...input } as never);
  if (!report) throw new Error(`no report for ${JSON.stringify(input)}`);
  await applyStatus(registry, id, report);
}

async function toolCall(registry: Registry, id: string, tool_name: string, tool_input: unknown): Promise<void> {
  await hook(registry, id, { hook_event_name: "PreToolUse", tool_name, tool_input });
  await hook(registry, id, { hook_event_name: "PostToolUse", tool_name, tool_input, tool_response: "ok" });
}

let keys = 0;
function broker(registry: Registry, id: string, body: BrokerReport["body"]) {
  return applyBrokerReport(registry, id, { idempotencyKey: `k${++keys}`, at: new Date().toISOString(), body });
}

/** A local thopter's first minutes: it boots without a firewall, reads, edits, tests, and asks a question. */
async function session(d: DashboardSetup, id: string): Promise<void> {
  await addThopter(d.registry, id, { state: "booting", issueNumber: 4, issueTitle: "add() returns a string" });
  await d.registry.setMachine(id, { provider: "local", id: `local-${id}` }, "machine started");
  await applyStatus(d.registry, id, {
    state: "booting",
    event: "firewall",
    detail: "no egress firewall: this local thopter shares the host's network (THOPTER_FS_ROOT is set)",
    at: new Date().toISOString(),
  });
  await hook(d.registry, id, { hook_event_name: "SessionStart", source: "startup" });
  await hook(d.registry, id, { hook_event_name: "UserPromptSubmit", prompt: "Fix issue 4" });
  await toolCall(d.registry, id, "Read", { file_path: `${CWD}/src/add.js` });
  await toolCall(d.registry, id, "Edit", {
    file_path: `${CWD}/src/add.js`,
    old_string: "a + '' + b",
    new_string: "a + b",
  });
  await toolCall(d.registry, id, "Bash", { command: "npm test" });
  await toolCall(d.registry, id, "Bash", { command: "git status --short" });
  await hook(d.registry, id, {
    hook_event_name: "Stop",
    last_assistant_message: "The tests pass. Should I also handle BigInt?",
  });
}

/** A dashboard with one thopter that lived through `session`. */
async function dashboardWith(id: string): Promise<DashboardSetup> {
  const d = await start();
  await session(d, id);
  return d;
}

const HOOK_NAMES = /PreToolUse|PostToolUse|UserPromptSubmit|SessionStart|Notification|\bStop\b/;

describe("dashboard in words", () => {
  it("says what the thopter does, not which hook fired: on the swarm and on the thopter page, tool calls grouped", async () => {
    const d = await dashboardWith("t-add");
    const swarm = await open(d, "/");
    const report = swarm.locator('tr[data-id="t-add"] .report');
    await expect(report.textContent()).resolves.toBe(
      "waiting for your answer: The tests pass. Should I also handle BigInt?",
    );
    await expect(swarm.locator("body").textContent()).resolves.not.toMatch(HOOK_NAMES);

    const page = await open(d, "/thopters/t-add");
    const rows = page.locator("#reports tbody tr");
    const texts = await rows.locator("td.message").allInnerTexts();
    expect(texts.join("\n")).not.toMatch(HOOK_NAMES);
    // One row per tool call (its PreToolUse and PostToolUse together), newest first.
    expect(texts.filter((t) => t.startsWith("reading src/add.js"))).toHaveLength(1);
    const order = [
      "running `git status --short`",
      "running tests: `npm test`",
      "editing src/add.js",
      "reading src/add.js",
    ];
    const at = order.map((words) => texts.findIndex((t) => t.startsWith(words)));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(texts[0]).toBe("waiting for your answer: The tests pass. Should I also handle BigInt?");
    expect(texts).toContain("got a new prompt");
    expect(texts.find((t) => t.startsWith("reading src/add.js"))).toMatch(/done in \d+ s$/);
    await expect(page.locator("body").textContent()).resolves.not.toMatch(HOOK_NAMES);

    // What the agent names (a path, a command) is shown as text, never run, live or on load.
    const evil = `<img src=x onerror="window.pwned = 1">.js`;
    await toolCall(d.registry, "t-add", "Read", { file_path: `${CWD}/${evil}` });
    await page.locator("#reports td.message", { hasText: `reading ${evil}` }).waitFor({ timeout: 10_000 });
    await swarm.locator('tr[data-id="t-add"] .report', { hasText: `reading ${evil}` }).waitFor({ timeout: 10_000 });
    await page.reload();
    await page.locator("#reports td.message", { hasText: `reading ${evil}` }).waitFor();
    for (const p of [page, swarm]) await expect(p.evaluate("window.pwned")).resolves.toBeUndefined();
    await swarm.context().close();
    await page.context().close();
  });

  it("shows relative times with the exact time on hover, and keeps them fresh", async () => {
    const d = await dashboardWith("t-time");
    const page = await open(d, "/thopters/t-time");
    const times = page.locator("#reports time");
    expect(await times.count()).toBeGreaterThan(5);
    for (const time of await times.all()) {
      const iso = (await time.getAttribute("datetime"))!;
      const exact = `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
      await expect(time.getAttribute("title")).resolves.toBe(exact);
      await expect(time.textContent()).resolves.toMatch(/^\d+ s ago$/);
    }
    // The swarm row's last report: a moment ago; three minutes later the page says so without a reload.
    const swarm = await open(d, "/");
    const last = swarm.locator('tr[data-id="t-time"] td[data-label="last report"] time');
    await expect(last.getAttribute("title")).resolves.toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    await last.evaluate((t: { dataset: Record<string, string> }) => {
      t.dataset.since = new Date(Date.now() - 180_000).toISOString();
    });
    await expect.poll(() => last.textContent(), { timeout: 10_000 }).toBe("3 min ago");
    await page.context().close();
    await swarm.context().close();
  });

  it("links the branch only once the broker pushed it, and the pull request once opened", async () => {
    const d = await dashboardWith("t-link");
    const page = await open(d, "/");
    const links = page.locator('tr[data-id="t-link"] td[data-label="links"]');
    await expect(links.textContent()).resolves.toBe("nothing pushed yet");
    await expect(page.locator('a[href*="/tree/"]').count()).resolves.toBe(0);

    // A refused push makes no branch.
    const push = { kind: "audit", tool: "push_branch", args: {}, durationMs: 40 } as const;
    await broker(d.registry, "t-link", { ...push, outcome: "refused", message: "no commits on the branch" });
    await broker(d.registry, "t-link", { ...push, outcome: "ok", message: "pushed thopter/4--t-link" });
    const branch = links.locator("a", { hasText: "branch" });
    await branch.waitFor({ timeout: 10_000 });
    await expect(branch.getAttribute("href")).resolves.toBe(`https://github.com/${REPO}/tree/thopter/4--t-link`);
    await expect(links.locator("a", { hasText: "PR" }).count()).resolves.toBe(0);

    await broker(d.registry, "t-link", {
      kind: "status",
      state: "done",
      summary: "add() adds numbers now.",
      pullRequestUrl: `https://github.com/${REPO}/pull/5`,
    });
    await links.locator("a", { hasText: "PR" }).waitFor({ timeout: 10_000 });
    await expect(page.locator('tr[data-id="t-link"] .report').textContent()).resolves.toBe(
      "reported done: add() adds numbers now.",
    );
    await page.context().close();
  });

  it("filters the reports table by source and kind, also after a live refresh", async () => {
    const d = await dashboardWith("t-filter");
    await broker(d.registry, "t-filter", {
      kind: "audit",
      tool: "get_issue",
      args: {},
      outcome: "ok",
      message: "#4",
      durationMs: 9,
    });
    const page = await open(d, "/thopters/t-filter");
    const rows = page.locator("#reports tbody tr");
    const visible = page.locator("#reports tbody tr:visible");
    const total = await rows.count();
    await expect(visible.count()).resolves.toBe(total);
    await page.selectOption("#report-filter select[name=source]", "broker");
    await expect(visible.count()).resolves.toBe(1);
    await expect(visible.textContent()).resolves.toContain("read the issue");
    await page.selectOption("#report-filter select[name=source]", "observer");
    await page.selectOption("#report-filter select[name=kind]", "tool");
    const tools = await visible.locator("td.message").allInnerTexts();
    expect(tools).toHaveLength(4);
    expect(tools.every((t) => /^(reading|editing|running)/.test(t))).toBe(true);
    // A live update fetches the table again; the filter still applies.
    await toolCall(d.registry, "t-filter", "Read", { file_path: `${CWD}/README.md` });
    await expect.poll(() => visible.count(), { timeout: 10_000 }).toBe(5);
    await expect(visible.first().textContent()).resolves.toMatch(/^.*reading README\.md/);
    const now = await rows.count();
    expect(now).toBeGreaterThan(total);
    await page.selectOption("#report-filter select[name=kind]", "");
    await page.selectOption("#report-filter select[name=source]", "");
    await expect(visible.count()).resolves.toBe(now);
    await page.context().close();
  });

  it("fits a 390 px phone: no sideways scrolling on the swarm or the thopter page", async () => {
    const d = await dashboardWith("t-phone");
    await addThopter(d.registry, "t-long-name-of-a-thopter", {
      state: "working",
      issueTitle: `A title without spaces: ${"x".repeat(120)}`,
    });
    await hook(d.registry, "t-long-name-of-a-thopter", {
      hook_event_name: "PreToolUse",
      tool_name: "Bash",
      tool_input: { command: `node -e "${"y".repeat(300)}"` },
    });
    for (const path of ["/", "/thopters/t-phone", "/thopters/t-long-name-of-a-thopter"]) {
      const page = await open(d, path, 390);
      await expect(page.evaluate("document.documentElement.scrollWidth")).resolves.toBeLessThanOrEqual(390);
      if (SCREENSHOTS) {
        mkdirSync(SCREENSHOTS, { recursive: true });
        await page.screenshot({ path: join(SCREENSHOTS, `phone${path.replaceAll("/", "-")}.png`), fullPage: true });
      }
      await page.context().close();
    }
    if (SCREENSHOTS) {
      const page = await open(d, "/thopters/t-phone");
      await page.screenshot({ path: join(SCREENSHOTS, "desktop-thopter.png"), fullPage: true });
      await page.context().close();
    }
  });

  it("names the real cause of a missing firewall: a local thopter shares the host's network", async () => {
    const d = await dashboardWith("t-local");
    const page = await open(d, "/");
    const warning = page.locator(".warning");
    await expect(warning.count()).resolves.toBe(1);
    await expect(warning.textContent()).resolves.toBe(
      "⚠ 1 local thopter runs without an egress firewall: a local thopter shares the host's network, so its agent can " +
        "reach any address the host can. Use the Fly provider for a firewalled thopter. Rows marked “no firewall”.",
    );
    await expect(page.locator("body").textContent()).resolves.not.toContain("DANGEROUSLY_SKIP_FIREWALL");
    await expect(page.locator('tr[data-id="t-local"] .nofirewall').getAttribute("title")).resolves.toContain(
      "shares the host's network",
    );
    // A Fly thopter started with the switch is named as such, live.
    await addThopter(d.registry, "t-fly", { state: "booting" });
    await d.registry.setMachine("t-fly", { provider: "fly", id: "m-1" }, "machine started");
    await applyStatus(d.registry, "t-fly", {
      state: "booting",
      event: "firewall",
      detail: "FIREWALL DISABLED (DANGEROUSLY_SKIP_FIREWALL=I_UNDERSTAND)",
      at: new Date().toISOString(),
    });
    await expect.poll(() => warning.count(), { timeout: 10_000 }).toBe(2);
    await expect(warning.nth(1).textContent()).resolves.toContain(
      "1 thopter runs without the egress firewall (started with DANGEROUSLY_SKIP_FIREWALL=I_UNDERSTAND)",
    );
    await page.context().close();
  });
});
