import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../../helpers/browser.js";
import { webhookSignature } from "../../peers/github/index.js";
import { useChildHubs } from "../hub/child.js";
import { BOT, CODER_TOKEN, ISSUES_TOKEN, REPO, WEBHOOK_SECRET } from "../hub/harness.js";
import { loginUrl, openDashboard, repoRow } from "./harness.js";

// Issue 12: each watched repository on /healthz and the dashboard's health panel, with why it fails in words.
// One real hub process watches four repositories of the GitHub peer: one fine, one with a token GitHub refuses (401),
// one that does not exist (404), one rate-limited; then a webhook with a bad signature, then a good one.
const FINE = "acme/fine";
const MISSING = "acme/missing";
const LIMITED = "acme/limited";
const LIMITED_ISSUES = "ghp_limitedIssuesTokenForTests0123456789";
const LIMITED_CODER = "ghp_limitedCoderTokenForTests01234567890";
const FINE_ISSUES = "ghp_fineIssuesTokenForTests0123456789abc";
const FINE_CODER = "ghp_fineCoderTokenForTests0123456789abcd";

const hubs = useChildHubs();
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

interface Health {
  status: string;
  failing: string[];
  github: Record<string, Record<string, unknown> & { budget?: { remaining: number; limit: number } }>;
}

async function healthz(base: string): Promise<Health> {
  return (await (await fetch(new URL("/healthz", base))).json()) as Health;
}

async function rowText(page: Page, repo: string): Promise<string> {
  return (await repoRow(page, repo).textContent()) ?? "";
}

function deliver(base: string, secret: string, repo: string): Promise<Response> {
  const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1, repository: { full_name: repo } });
  return fetch(new URL("/github/webhook", base), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "ping",
      "x-hub-signature-256": webhookSignature(secret, body),
    },
    body,
  });
}

describe("per-repository health", () => {
  it("names each failure in words on /healthz and the page, with the last good poll and the budget left", async () => {
    const { peer } = hubs;
    await peer.addRepo(FINE, { issuesToken: FINE_ISSUES, coderToken: FINE_CODER, bot: { login: BOT } });
    await peer.addRepo(LIMITED, { issuesToken: LIMITED_ISSUES, coderToken: LIMITED_CODER, bot: { login: BOT } });
    // A secondary rate limit GitHub wants waited out for an hour: the hub does not wait, it says until when.
    peer.inject({
      status: 403,
      retryAfter: 3600,
      times: 10_000,
      match: { method: "GET", path: /^\/repos\/acme\/limited\// },
    });
    const child = hubs.hub({
      GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      GITHUB_INTEGRATION_JSON: JSON.stringify({
        repositories: {
          // REPO's issues token is one GitHub does not know.
          [REPO]: { issuesToken: "ghp_revokedTokenForTests0123456789abcdef", coderToken: CODER_TOKEN },
          [MISSING]: { issuesToken: ISSUES_TOKEN, coderToken: `${CODER_TOKEN}x` },
          [LIMITED]: { issuesToken: LIMITED_ISSUES, coderToken: LIMITED_CODER },
          [FINE]: { issuesToken: FINE_ISSUES, coderToken: FINE_CODER },
        },
        agentUser: { name: "Thopter Bot", email: "bot@example.com" },
      }),
    });
    const login = await loginUrl(child);
    const page = await openDashboard(browser, login);
    await page.waitForFunction(
      'document.querySelectorAll("#health tr.part-failing[data-part=github]").length === 3',
      undefined,
      { timeout: 30_000 },
    );

    const health = await healthz(login);
    expect(health.status).toBe("degraded");
    expect(health.failing.sort()).toEqual([LIMITED, MISSING, REPO].sort());
    expect(health.github[REPO]).toMatchObject({ state: "failing", problem: "bad-token" });
    expect(health.github[REPO]!.detail).toMatch(/^401 bad token: .*GITHUB_INTEGRATION_JSON/);
    expect(health.github[MISSING]).toMatchObject({ state: "failing", problem: "not-found" });
    expect(health.github[MISSING]!.detail).toMatch(
      /^404 no such repository or no access: the token cannot see acme\/missing/,
    );
    expect(health.github[LIMITED]).toMatchObject({ state: "failing", problem: "rate-limited" });
    // Until about an hour from now, as HH:MM.
    const until = Date.parse(String(health.github[LIMITED]!.rateLimitedUntil));
    expect(Math.abs(until - (Date.now() + 3_600_000))).toBeLessThan(120_000);
    const hhmm = new Date(until).toISOString().slice(11, 16);
    expect(health.github[LIMITED]!.detail).toMatch(new RegExp(`^rate-limited until ${hhmm} UTC`));
    expect(health.github[FINE]).toMatchObject({ state: "ok" });
    expect(Date.parse(String(health.github[FINE]!.lastPollAt))).toBeGreaterThan(Date.now() - 30_000);
    expect(health.github[FINE]!.budget).toMatchObject({ limit: 5000 });
    expect(health.github[FINE]!.budget!.remaining).toBeLessThan(5000);
    // /healthz is open: it names repositories and parts, never a thopter.
    expect(JSON.stringify(health)).not.toMatch(/thopters?"/);

    // The page says the same, in words, with times readable and exact on hover.
    expect(await rowText(page, REPO)).toMatch(/failing.*401 bad token/s);
    expect(await rowText(page, MISSING)).toMatch(/failing.*404 no such repository or no access/s);
    expect(await rowText(page, LIMITED)).toMatch(new RegExp(`rate-limited until ${hhmm} UTC`));
    expect(await repoRow(page, LIMITED).locator("td[title]").getAttribute("title")).toMatch(
      /^GitHub answers again at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/,
    );
    const fine = await rowText(page, FINE);
    expect(fine).toMatch(/ok/);
    expect(fine).toMatch(/\d+ s ago/);
    expect(fine).toMatch(/\d+ \/ 5000/);
    expect(await repoRow(page, FINE).locator("time").getAttribute("title")).toMatch(/ UTC$/);
    expect(await repoRow(page, LIMITED).textContent()).toMatch(/\d+ \/ 5000/);

    // A delivery signed with another secret: that repository shows the mismatch, pushed to the open page.
    expect((await deliver(login, "not-the-secret", FINE)).status).toBe(401);
    await page.waitForSelector(`#health tr[data-name="${FINE}"].part-failing`, { timeout: 10_000 });
    expect(await rowText(page, FINE)).toMatch(/webhook secret mismatch seen/);
    expect((await healthz(login)).github[FINE]).toMatchObject({
      state: "failing",
      detail: expect.stringMatching(/^webhook secret mismatch seen: .*GITHUB_WEBHOOK_SECRET/),
    });
    // The next good delivery clears it.
    expect((await deliver(login, WEBHOOK_SECRET, FINE)).status).toBe(200);
    await page.waitForSelector(`#health tr[data-name="${FINE}"].part-ok`, { timeout: 10_000 });
    expect((await healthz(login)).github[FINE]).toMatchObject({ state: "ok" });
    expect((await healthz(login)).github[FINE]!.webhookMismatchAt).toBeUndefined();
  }, 120_000);
});
