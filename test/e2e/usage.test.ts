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
  it("shows what the model proxy counted of the served usage (MODEL_PRICES_FILE) on the dashboard, in the comment and on /metrics", async () => {
    world.comment("/thopter");
    const comment = await completion(world, 170_000);
    // Every answer the peer gave passed through the thopter's model proxy (side requests too); the transcript holds
    // the main loop's only.
    const answered = () => world.model.requests.filter((r) => r.response !== undefined);
    const mainAnswered = () => answered().filter((r) => r.kind === "main");
    const [thopter] = await world.thopters();
    const model = mainAnswered()[0]!.response!.model;
    expect(comment).toMatch(/^- Usage so far: \$\d+\.\d+ \([\d,]+ tokens, counted by the model proxy/m);

    // Once the closing answer is in, both counts settle: every message once, whatever the CLI wrote for it.
    const usage = async () => (await world.thopters())[0]?.usage;
    await until(
      async () => {
        const u = await usage();
        return (
          u?.proxy?.models[model]?.input === answered().length * 1200 &&
          u?.transcript?.models[model]?.input === mainAnswered().length * 1200
        );
      },
      30_000,
      "proxy and transcript counts of every answer",
    );
    const count = answered().length;
    const [record] = await world.thopters();
    expect(record!.usage!.proxy!.models).toEqual({
      [model]: { input: count * 1200, output: count * 300, cacheRead: count * 40_000, cacheWrite: count * 2500 },
    });
    const cost = formatUsd(count * PER_RESPONSE);
    // The override file is what the cost comes from, not the shipped table.
    expect(formatUsd(costOf(record!.usage!.proxy!.models, DEFAULT_PRICES).usd)).not.toBe(cost);

    const metrics = await (await world.api("/metrics")).text();
    const id = thopter!.id;
    expect(sample(metrics, `thopter_usage_cost_usd{thopter="${id}",source="proxy"}`)).toBeCloseTo(
      count * PER_RESPONSE,
      9,
    );
    expect(
      sample(metrics, `thopter_usage_tokens{thopter="${id}",model="${model}",kind="cache_read",source="proxy"}`),
    ).toBe(count * 40_000);
    expect(sample(metrics, "thopter_swarm_usage_cost_usd")).toBeCloseTo(count * PER_RESPONSE, 9);

    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(world.hub.loginUrl);
      const row = page.locator(`tr[data-id="${id}"]`);
      await expect(row.locator(".cost").first().textContent()).resolves.toBe(cost);
      await expect(page.locator(".usage-total strong").textContent()).resolves.toBe(cost);
      await page.goto(`${world.config.HUB_PUBLIC_URL}/thopters/${id}`);
      const table = page.locator("#usage table").first();
      await expect(table.locator("caption").textContent()).resolves.toBe(`${cost} · counted by the model proxy`);
      await expect(table.locator("tr.sum").textContent()).resolves.toBe(
        `all models${formatTokens(count * 1200)}${formatTokens(count * 300)}${formatTokens(count * 40_000)}${formatTokens(count * 2500)}${cost}`,
      );
    } finally {
      await browser.close();
    }
    expect(thopter!.repo).toBe(REPO);
  }, 300_000);
});
