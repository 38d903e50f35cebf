import { appendFileSync, copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mintAccessToken } from "@thopter/agent/access/index";
import { startSessionLogServer } from "@thopter/agent/session-log/index";
import { pino } from "pino";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../../helpers/browser.js";
import { tempDir } from "../../helpers/tmp.js";
import { TRANSCRIPTS } from "./transcripts.js";

const KEY = "session-log-test-key-0123456789abcdef";
const log = pino({ level: "silent" });
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const token = (scope: "log" | "terminal", exp = inAnHour(), thopterId = "t-log") =>
  mintAccessToken(KEY, { thopterId, scope, exp });

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** A projects folder holding one real transcript, and the log server over it. */
async function serve() {
  const dir = join(tempDir(), "projects", "-workspace-repo");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "session.jsonl");
  copyFileSync(join(TRANSCRIPTS, "claude-code-transcript.real.tool_heavy.v2.1.38.jsonl"), file);
  const server = await startSessionLogServer({ key: KEY, thopterId: "t-log", dir, log, pollMs: 250 });
  return { server, dir, file, [Symbol.asyncDispose]: () => server.close() };
}

function userLine(text: string): string {
  return `${JSON.stringify({ type: "user", timestamp: new Date().toISOString(), message: { role: "user", content: text } })}\n`;
}

describe("session log page in Chromium", () => {
  it("shows the full render, then a line appended after load as it lands; the cookie keeps access on reload", async () => {
    await using env = await serve();
    const page = await browser.newPage();
    try {
      await page.goto(`${env.server.url}/?token=${token("log")}`);
      const expected = readFileSync(env.file, "utf8")
        .split("\n")
        .filter((l) => l.trim()).length;
      await expect.poll(() => page.locator(".entry").count(), { timeout: 10_000 }).toBe(expected);
      expect(new URL(page.url()).search).toBe("");
      expect(await page.locator("details.tool .tool-result:not(.pending)").count()).toBe(
        await page.locator("details.tool").count(),
      );
      await expect.poll(() => page.locator("section h2 .totals").textContent()).toMatch(/\d+ turns/);

      const marker = `appended-${Date.now()}`;
      const start = performance.now();
      appendFileSync(env.file, userLine(marker));
      await page.locator(".entry.user .text", { hasText: marker }).waitFor({ timeout: 5000 });
      // The bench reports the real delay; here only an upper bound with slack for a busy CI machine.
      expect(performance.now() - start).toBeLessThan(2000);

      await page.reload();
      await page.locator(".entry.user .text", { hasText: marker }).waitFor({ timeout: 5000 });
      expect(await page.locator(".entry").count()).toBe(expected + 1);
    } finally {
      await page.close();
    }
  });

  it("folds bookkeeping lines into one quiet group as they land, and shows a malformed line as malformed", async () => {
    await using env = await serve();
    const page = await browser.newPage();
    try {
      await page.goto(`${env.server.url}/?token=${token("log")}`);
      await page.locator(".entry").first().waitFor({ timeout: 10_000 });
      const before = await page.locator(".entry").count();
      const other = (type: string) => `${JSON.stringify({ type, note: "<img src=x onerror=window.pwned=1>" })}\n`;
      appendFileSync(env.file, other("mode"));
      const group = page.locator(".entry.other").last();
      await group.locator("summary").first().filter({ hasText: "1 other entry" }).waitFor({ timeout: 5000 });
      // Lines that land later join the same group (one `fold` at a time), which stays collapsed.
      appendFileSync(env.file, other("api-request"));
      await expect.poll(() => group.locator("> summary").textContent(), { timeout: 5000 }).toBe("2 other entries");
      appendFileSync(env.file, other("file-history-delta"));
      await expect.poll(() => group.locator("> summary").textContent(), { timeout: 5000 }).toBe("3 other entries");
      expect(await group.getAttribute("open")).toBeNull();
      expect(await page.locator(".entry.other").count()).toBe(1);
      expect(await page.locator(".entry").count()).toBe(before + 1);
      expect(await page.locator(".entry.raw").count()).toBe(0);

      appendFileSync(env.file, '{"no_type": true}\n{"type":"mode"}\n');
      await page.locator(".entry.raw", { hasText: "malformed line: no type" }).waitFor({ timeout: 5000 });
      // After another entry, a new group begins.
      await expect.poll(() => page.locator(".entry.other").count(), { timeout: 5000 }).toBe(2);
      expect(await page.evaluate("typeof window.pwned")).toBe("undefined");
    } finally {
      await page.close();
    }
  });

  it("shows a new session file and never runs markup from the transcript", async () => {
    await using env = await serve();
    const page = await browser.newPage();
    try {
      await page.goto(`${env.server.url}/?token=${token("log")}`);
      await page.locator("section").first().waitFor();
      const evil = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">';
      writeFileSync(
        join(env.dir, "second.jsonl"),
        `${JSON.stringify({ type: "assistant", message: { id: "m", role: "assistant", content: [{ type: "tool_use", id: "t1", name: "Bash", input: { command: "cat x" } }] } })}\n${JSON.stringify({ type: "user", message: { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: evil }] } })}\n`,
      );
      await page.locator("section h2", { hasText: "second.jsonl" }).waitFor({ timeout: 5000 });
      // Tool results sit folded in their call's <details>: present in the page, not visible.
      await page.locator(".tool-result", { hasText: "window.pwned = 1" }).waitFor({ state: "attached" });
      expect(await page.evaluate("typeof window.pwned")).toBe("undefined");
      expect(await page.locator("section img").count()).toBe(0);

      // Truncated and rewritten (a rotated log): the page drops what it showed of that file and starts over.
      writeFileSync(join(env.dir, "second.jsonl"), userLine("after-truncation"));
      const second = page.locator("section", { has: page.locator("h2", { hasText: "second.jsonl" }) });
      await second.locator(".entry.user .text", { hasText: "after-truncation" }).waitFor({ timeout: 5000 });
      await expect.poll(() => second.locator(".entry").count()).toBe(1);
    } finally {
      await page.close();
    }
  });

  it("shows a boot log that does not exist yet once boot writes it, and starts over when it is replaced", async () => {
    const dir = tempDir();
    const bootLog = join(dir, "var/log/thopter/boot.log");
    const server = await startSessionLogServer({ key: KEY, thopterId: "t-log", dir, bootLog, log, pollMs: 250 });
    const page = await browser.newPage();
    try {
      await page.goto(`${server.url}/boot-log?token=${token("log")}`);
      await expect.poll(() => page.locator("#status").textContent()).toBe("waiting for boot to write its log…");
      const line = (step: string, pid: number) =>
        `${JSON.stringify({ level: 30, time: Date.now(), pid, name: "boot", step, ms: 3, msg: `${step}: done` })}\n`;
      mkdirSync(join(dir, "var/log/thopter"), { recursive: true });
      writeFileSync(bootLog, line("job", 1) + line("broker", 1));
      await expect
        .poll(() => page.locator(".entry .step").allTextContents(), { timeout: 5000 })
        .toEqual(["job", "broker"]);
      expect(await page.locator("section h2").textContent()).toMatch(/^boot\.logboot 1 · 2 steps done/);
      writeFileSync(`${bootLog}.new`, line("firewall", 2));
      renameSync(`${bootLog}.new`, bootLog);
      await expect.poll(() => page.locator(".entry .step").allTextContents(), { timeout: 5000 }).toEqual(["firewall"]);
      await expect.poll(() => page.locator("section h2 .totals").textContent()).toBe("boot 1 · 1 step done");
      // The two pages link to each other; the cookie the first visit set carries access.
      await page.getByRole("link", { name: "session log" }).click();
      await expect.poll(() => page.locator("#status").textContent()).toBe("waiting for the session to start…");
      await page.getByRole("link", { name: "boot log" }).click();
      await expect.poll(() => page.locator(".entry .step").allTextContents()).toEqual(["firewall"]);
    } finally {
      await page.close();
      await server.close();
    }
  });

  it("refuses no token, an expired one, another scope or another thopter's, with the reason", async () => {
    await using env = await serve();
    const url = env.server.url;
    const none = await fetch(`${url}/`);
    expect([none.status, await none.text()]).toEqual([401, expect.stringMatching(/no access token/)]);
    const events = await fetch(`${url}/events`);
    expect(events.status).toBe(401);
    const expired = await fetch(`${url}/?token=${token("log", Math.floor(Date.now() / 1000) - 5)}`);
    expect([expired.status, await expired.text()]).toEqual([401, expect.stringMatching(/expired/)]);
    expect((await fetch(`${url}/?token=${token("terminal")}`)).status).toBe(403);
    expect((await fetch(`${url}/?token=${token("log", inAnHour(), "t-other")}`)).status).toBe(403);
    // A stream opened with a token ends when the token expires.
    const shortLived = await fetch(`${url}/events?token=${token("log", Math.floor(Date.now() / 1000) + 2)}`);
    expect(shortLived.status).toBe(200);
    const started = performance.now();
    await shortLived.text();
    expect(performance.now() - started).toBeLessThan(5000);
    const ok = await fetch(`${url}/?token=${token("log")}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("set-cookie")).toMatch(/^thopter_log_t-log=.*HttpOnly; SameSite=Strict$/);
    await ok.text();
  });
});
