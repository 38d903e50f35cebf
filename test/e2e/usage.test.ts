import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatTokens, formatUsd } from "@thopter/hub/usage/view";
import { costOf, DEFAULT_PRICES, type PriceTable } from "@thopter/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { REPO } from "../demo/world.js";
import { launchBrowser } from "../helpers/browser.js";
import { asRoot, completion, ROOT_ONLY, until, useWorld } from "./harness.js";

// What every model response reports, and prices that make its cost easy to check: $0.0194 a response.
const SERVED = {
  input_tokens: 1200,
  output_tokens: 300,
  cache_read_input_tokens: 40_000,
  cache_creation_input_tokens: 2500,
};
const PRICES: PriceTable = { models: [{ match: "claude", input: 2, output: 10, cacheRead: 0.1, cacheWrite: 4 }] };
const PER_RESPONSE = (1200 * 2 + 300 * 10 + 40_000 * 0.1 + 2500 * 4) / 1e6;

const pricesDir = mkdtempSync(join(tmpdir(), "usage-prices-"));
const pricesFile = join(pricesDir, "prices.json");
writeFileSync(pricesFile, JSON.stringify(PRICES));
afterAll(() => rmSync(pricesDir, { recursive: true, force: true }));

const world = useWorld({ modelUsage: SERVED, hubEnv: { MODEL_PRICES_FILE: pricesFile } });

/** The value of one /metrics sample (labels exactly as written). */
function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.skipIf(!asRoot)(`usage and cost of a thopter, real Claude CLI on the scripted model ${ROOT_ONLY}`, () => {
  it("shows what the served usage costs (MODEL_PRICES_FILE) on the dashboard, in the comment and on /metrics", async () => {
    world.comment("/thopter");
    const comment = await completion(world, 170_000);
    const served = () => world.model.mainRequests().filter((r) => r.response !== undefined);
    const [thopter] = await world.thopters();
    const model = served()[0]!.response!.model;
    // The comment goes out at report_status(done): the answers up to that call, and the closing one if it came first.
    const untilDone = served().filter((r) => r.response!.content.every((b) => b.type !== "text")).length;
    const line = (n: number) =>
      `Usage so far: ${formatUsd(n * PER_RESPONSE)} (${formatTokens(n * 44_000)} tokens, reported by the thopter)`;
    expect([line(untilDone), line(served().length)]).toContain(comment.match(/Usage so far: .*/)?.[0]);

    // Then the closing answer is counted too: every message once, whatever number of lines the CLI wrote for it.
    const count = served().length;
    const input = async () => (await world.thopters())[0]?.usage?.transcript?.models[model]?.input;
    await until(async () => (await input()) === count * 1200, 30_000, `input tokens of ${count} responses`);
    const [record] = await world.thopters();
    expect(record!.usage!.transcript!.models).toEqual({
      [model]: { input: count * 1200, output: count * 300, cacheRead: count * 40_000, cacheWrite: count * 2500 },
    });
    const cost = formatUsd(count * PER_RESPONSE);
    // The override file is what the cost comes from, not the shipped table.
    expect(formatUsd(costOf(record!.usage!.transcript!.models, DEFAULT_PRICES).usd)).not.toBe(cost);

    const metrics = await (await world.api("/metrics")).text();
    const id = thopter!.id;
    expect(sample(metrics, `thopter_usage_cost_usd{thopter="${id}",source="transcript"}`)).toBeCloseTo(
      count * PER_RESPONSE,
      9,
    );
    expect(
      sample(metrics, `thopter_usage_tokens{thopter="${id}",model="${model}",kind="cache_read",source="transcript"}`),
    ).toBe(count * 40_000);
    expect(sample(metrics, "thopter_swarm_usage_cost_usd")).toBeCloseTo(count * PER_RESPONSE, 9);

    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(world.hub.loginUrl);
      const row = page.locator(`tr[data-id="${id}"]`);
      await expect(row.locator(".cost").textContent()).resolves.toBe(cost);
      await expect(row.locator("td[data-label=cost]").textContent()).resolves.toContain("reported");
      await expect(page.locator(".usage-total strong").textContent()).resolves.toBe(cost);
      await page.goto(`${world.config.HUB_PUBLIC_URL}/thopters/${id}`);
      const table = page.locator("#usage table");
      await expect(table.locator("caption").textContent()).resolves.toBe(`${cost} · reported by the thopter`);
      await expect(table.locator("tr.sum").textContent()).resolves.toBe(
        `all models${formatTokens(count * 1200)}${formatTokens(count * 300)}${formatTokens(count * 40_000)}${formatTokens(count * 2500)}${cost}`,
      );
    } finally {
      await browser.close();
    }
    expect(thopter!.repo).toBe(REPO);
  }, 300_000);
});
