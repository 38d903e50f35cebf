import { applyBrokerReport, applyStatus } from "@thopter/hub/collector/apply";
import type { ModelUsage } from "@thopter/protocol";
import { describe, expect, it } from "vitest";
import { addThopter, browserSuite, TOKEN } from "./harness.js";

// What a thopter cost, as a person reads it on the dashboard: per row, in total, and by model on its page; the model
// proxy's count first, and the thopter's own beside it when the two disagree.
const { browser, start } = browserSuite();
const SONNET = "claude-sonnet-4-5-20250929";
// $3 / $15 / $0.30 / $3.75 per million: 0.03 + 0.015 + 0.03 + 0.0375 = $0.1125.
const tenX = (scale = 1): ModelUsage => ({
  [SONNET]: { input: 10_000 * scale, output: 1000 * scale, cacheRead: 100_000 * scale, cacheWrite: 10_000 * scale },
});
const at = () => new Date().toISOString();

describe("usage on the dashboard (Chromium)", () => {
  it("shows each thopter's cost, the total, both figures when the proxy's differs, and updates live", async () => {
    const d = await start();
    await addThopter(d.registry, "t1");
    await addThopter(d.registry, "t2");
    await applyStatus(d.registry, "t1", { state: "working", event: "Stop", at: at(), usage: tenX() });
    // The agent's transcript claims a tenth of what the proxy counted.
    await applyBrokerReport(d.registry, "t2", {
      idempotencyKey: "u1",
      at: at(),
      body: { kind: "usage", models: tenX(10) },
    });
    await applyStatus(d.registry, "t2", { state: "working", event: "Stop", at: at(), usage: tenX() });

    const page = await (await browser().newContext()).newPage();
    await page.goto(`${d.url}/?token=${TOKEN}`);
    await page.locator("#live-dot.on").waitFor({ timeout: 10_000 });
    const cost = (id: string) => page.locator(`tr[data-id="${id}"] td[data-label=cost]`);
    await expect(cost("t1").textContent()).resolves.toBe("$0.11 reported");
    await expect(cost("t1").locator(".cost").getAttribute("title")).resolves.toBe(
      "$0.11 (121,000 tokens, reported by the thopter)",
    );
    await expect(cost("t2").textContent()).resolves.toBe("$1.13 ≠ $0.11 reported");
    await expect(page.locator(".usage-total").textContent()).resolves.toBe(
      "Usage: $1.24 for 2 thopters (1,331,000 tokens)",
    );

    // A new report moves the row and the total without a reload.
    await applyStatus(d.registry, "t1", { state: "working", event: "Stop", at: at(), usage: tenX(2) });
    await page.locator(`tr[data-id="t1"] .cost`, { hasText: "$0.23" }).waitFor({ timeout: 10_000 });
    await page.locator(".usage-total", { hasText: "$1.35" }).waitFor({ timeout: 10_000 });

    await page.goto(`${d.url}/thopters/t2`);
    await expect(page.locator("#usage .warning").textContent()).resolves.toContain("the proxy's is the one to trust");
    await expect(page.locator("#usage caption").allTextContents()).resolves.toEqual([
      "$1.13 · counted by the model proxy",
      "$0.11 · reported by the thopter",
    ]);
    await expect(page.locator("#usage table[data-source=proxy] tr.sum td").allTextContents()).resolves.toEqual([
      "all models",
      "100,000",
      "10,000",
      "1,000,000",
      "100,000",
      "$1.13",
    ]);
  }, 60_000);
});
