import { generateKeyPairSync } from "node:crypto";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../../helpers/browser.js";
import { useChildHubs } from "../hub/child.js";
import { REPO } from "../hub/harness.js";
import { hangingGitHub, loginUrl, openDashboard, repoRow, stopWith, until } from "./harness.js";

// Issue 12: a GitHub that accepts connections and never answers. A real `pnpm start` serves its dashboard at once,
// shows the repository failing ("timed out") within 30 s, and stops within 5 s of SIGINT or SIGTERM mid-request.
const hubs = useChildHubs();
let lastHealth = "";
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe("a hanging GitHub", () => {
  it("shows on the dashboard as timed out within 30 s, and Ctrl-C (SIGINT) stops the hub within 5 s", async () => {
    const github = await hangingGitHub();
    try {
      // The default GITHUB_POLL_TIMEOUT_MS (10 s), as a user runs it.
      const child = hubs.hub({ GITHUB_API_URL: github.url, POLL_INTERVAL_MS: "5000" });
      const login = await loginUrl(child);
      const listening = Date.now();
      const page = await openDashboard(browser, login);
      // Served at once: the first poll cycle has not ended (its request hangs), yet the page and its panel are there.
      expect(child.output()).not.toContain('"msg":"hub started"');
      expect(github.pending()).toBeGreaterThan(0);
      await expect(repoRow(page, REPO).textContent()).resolves.toMatch(/none yet/);
      await page.evaluate("window.notReloaded = true");

      // Pushed live (no reload): the repository's row turns failing with the words, within 30 s of the hub serving.
      await page.waitForSelector(`#health tr[data-name="${REPO}"].part-failing`, { timeout: 30_000 });
      expect(Date.now() - listening).toBeLessThan(30_000);
      const row = await repoRow(page, REPO).textContent();
      expect(row).toMatch(/failing/);
      expect(row).toMatch(/timed out: GitHub did not answer within 10 s/);
      expect(await page.evaluate("window.notReloaded")).toBe(true);
      // The banner says it too, and /healthz (open, naming no thopter) has the same words.
      expect(await page.locator("#status").textContent()).toMatch(/GitHub \(acme\/widgets\) is failing: timed out/);
      const health = (await (await fetch(new URL("/healthz", login))).json()) as {
        github: Record<string, { lastPollAt?: string }>;
      };
      expect(health).toMatchObject({
        status: "degraded",
        failing: [REPO],
        github: { [REPO]: { state: "failing", problem: "timeout" } },
      });
      expect(health.github[REPO]?.lastPollAt).toBeUndefined();

      // Ctrl-C while a poll request hangs: the request is aborted and the hub exits 0 within 5 s.
      await until("a poll request in flight", () => github.pending() > 0, 20_000);
      const stop = await stopWith(child, "SIGINT");
      expect(stop.code).toBe(0);
      expect(stop.ms).toBeLessThan(5_000);
      expect(child.output()).toContain('"msg":"hub stopped"');
    } finally {
      await github.close();
    }
  }, 120_000);

  it("SIGTERM during the first poll cycle stops the hub within 5 s", async () => {
    const github = await hangingGitHub();
    try {
      const child = hubs.hub({ GITHUB_API_URL: github.url });
      await loginUrl(child);
      await until("the first poll request", () => github.pending() > 0, 20_000);
      // startHub has not resolved yet (its first cycle hangs): the signal aborts that cycle, then the hub stops.
      expect(child.output()).not.toContain('"msg":"hub started"');
      const stop = await stopWith(child, "SIGTERM");
      expect(stop.code).toBe(0);
      expect(stop.ms).toBeLessThan(5_000);
      expect(child.output()).toContain('"msg":"hub stopped"');
      expect(child.output()).not.toMatch(/"msg":"poll cycle failed/);
    } finally {
      await github.close();
    }
  }, 120_000);

  it("with the GitHub App (token minting hangs too): timed out on /healthz within 30 s, SIGINT within 5 s", async () => {
    const github = await hangingGitHub();
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    try {
      const child = hubs.hub({
        GITHUB_API_URL: github.url,
        GITHUB_APP_ID: "12345",
        GITHUB_APP_PRIVATE_KEY: privateKey.export({ type: "pkcs1", format: "pem" }).toString().replace(/\n/g, "\\n"),
        GITHUB_INTEGRATION_JSON: JSON.stringify({
          repositories: { [REPO]: {} },
          agentUser: { name: "Thopter Bot", email: "bot@example.com" },
        }),
      });
      const login = await loginUrl(child);
      const listening = Date.now();
      // Served at once although the App's installation lookup hangs.
      expect((await fetch(new URL("/healthz", login))).status).toBe(200);
      await until(
        "the repository failing as timed out",
        () => /"problem":"timeout"/.test(lastHealth),
        30_000,
        async () => {
          lastHealth = await (await fetch(new URL("/healthz", login))).text();
        },
      );
      expect(Date.now() - listening).toBeLessThan(30_000);
      await until("a request in flight", () => github.pending() > 0, 20_000);
      const stop = await stopWith(child, "SIGINT");
      expect(stop.code).toBe(0);
      expect(stop.ms).toBeLessThan(5_000);
    } finally {
      await github.close();
    }
  }, 120_000);
});
