import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_PRICES, type ModelUsage, type ThopterRecord } from "@thopter/protocol";
import { Registry as MetricsRegistry } from "prom-client";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { thopterPage } from "../src/dashboard/pages.js";
import { thopterRow } from "../src/dashboard/rows.js";
import { renderNotice } from "../src/notifier/comment.js";
import { registerUsageMetrics } from "../src/usage/metrics.js";
import { costText, formatUsd, usageLine, usageTotal, usageView } from "../src/usage/view.js";
import { BASE, failure, tempDir } from "./config-fixtures.js";
import { fields } from "./registry-fixtures.js";

const SONNET = "claude-sonnet-4-5-20250929";
const AT = "2026-01-01T10:00:00.000Z";
// $3 input, $15 output, $0.30 cache read, $3.75 cache write per million: 0.003 + 0.0015 + 0.003 + 0.00375 = $0.01125.
const models = (input = 1000): ModelUsage => ({
  [SONNET]: { input, output: 100, cacheRead: 10_000, cacheWrite: 1000 },
});
const record: ThopterRecord = { ...fields("t1"), state: "done", stateSince: AT, createdAt: AT, timeline: [] };
const ctx = { webUrl: "https://github.com", now: Date.parse(AT), csrf: "", prices: DEFAULT_PRICES };

describe("the usage view", () => {
  it("shows the thopter's own figure, labelled as such, until a proxy count exists", () => {
    const view = usageView({ transcript: { models: models(), at: AT } }, DEFAULT_PRICES)!;
    expect(view.shown).toMatchObject({ source: "transcript", label: "reported by the thopter" });
    expect(view.shown.usd).toBeCloseTo(0.01125, 10);
    expect(usageLine(view)).toBe("$0.01 (12,100 tokens, reported by the thopter)");
    expect(usageView(undefined, DEFAULT_PRICES)).toBeUndefined();
    expect(usageView({}, DEFAULT_PRICES)).toBeUndefined();
  });

  it("shows the proxy's count when there is one, and the thopter's too when they differ by more than rounding", () => {
    const same = usageView(
      { transcript: { models: models(), at: AT }, proxy: { models: models(), at: AT } },
      DEFAULT_PRICES,
    )!;
    expect(same.shown.source).toBe("proxy");
    expect(same.disputed).toBeUndefined();
    // A few tokens apart: one count made a moment later, not a different figure.
    const close = usageView(
      { transcript: { models: models(1000), at: AT }, proxy: { models: models(1010), at: AT } },
      DEFAULT_PRICES,
    )!;
    expect(close.disputed).toBeUndefined();
    // The agent wrote a cheaper transcript than what the model served.
    const forged = usageView(
      { transcript: { models: models(1000), at: AT }, proxy: { models: models(2_000_000), at: AT } },
      DEFAULT_PRICES,
    )!;
    expect(forged.shown).toMatchObject({ source: "proxy", label: "counted by the model proxy" });
    expect(forged.disputed?.source).toBe("transcript");
    expect(usageLine(forged)).toBe(
      "$6.01 (2,011,100 tokens, counted by the model proxy); differs from $0.01 (12,100 tokens, reported by the thopter)",
    );
  });

  it("shows tokens of a model without a price and marks its cost unknown", () => {
    const mixed = usageView(
      { transcript: { models: { ...models(), "mystery-1": models()[SONNET]! }, at: AT } },
      DEFAULT_PRICES,
    )!;
    expect(mixed.shown.unpriced).toEqual(["mystery-1"]);
    expect(costText(mixed.shown)).toBe("$0.01 + unknown");
    expect(usageLine(mixed)).toContain("24,200 tokens, reported by the thopter; no price for mystery-1");
    const unknown = usageView({ transcript: { models: { "mystery-1": models()[SONNET]! }, at: AT } }, DEFAULT_PRICES)!;
    expect(costText(unknown.shown)).toBe("cost unknown");
  });

  it("adds every thopter's shown figure into the total, and prints small sums without rounding them to zero", () => {
    const total = usageTotal(
      [{ transcript: { models: models(), at: AT } }, undefined, { proxy: { models: models(), at: AT } }],
      DEFAULT_PRICES,
    );
    expect(total).toMatchObject({ counted: 2, unpriced: false });
    expect(total.usd).toBeCloseTo(0.0225, 10);
    expect(formatUsd(0.0042)).toBe("$0.0042");
    expect(formatUsd(0.17)).toBe("$0.17");
    expect(formatUsd(0)).toBe("$0.00");
  });
});

describe("MODEL_PRICES_FILE", () => {
  it("replaces the shipped price table, and so the cost", () => {
    const file = join(tempDir(), "prices.json");
    writeFileSync(
      file,
      JSON.stringify({ models: [{ match: "claude-sonnet", input: 1, output: 1, cacheRead: 1, cacheWrite: 1 }] }),
    );
    expect(loadConfig(BASE).prices).toEqual(DEFAULT_PRICES);
    const { prices } = loadConfig({ ...BASE, MODEL_PRICES_FILE: file });
    expect(usageView({ transcript: { models: models(), at: AT } }, prices)!.shown.usd).toBeCloseTo(0.0121, 10);
  });

  it("stops the hub with one line naming the variable when the file is missing, not JSON, or not a price table", () => {
    const dir = tempDir();
    expect(failure({ ...BASE, MODEL_PRICES_FILE: join(dir, "nope.json") }).message).toBe(
      `MODEL_PRICES_FILE: cannot read ${join(dir, "nope.json")} (ENOENT); set it to a JSON file shaped like protocol/data/model-prices.json, or leave it unset`,
    );
    writeFileSync(join(dir, "bad.json"), "{ models: [");
    expect(failure({ ...BASE, MODEL_PRICES_FILE: join(dir, "bad.json") }).message).toMatch(
      /^MODEL_PRICES_FILE: .*bad\.json is not JSON; set it to/,
    );
    writeFileSync(join(dir, "shape.json"), JSON.stringify({ models: [{ match: "claude", input: -1 }] }));
    const shape = failure({ ...BASE, MODEL_PRICES_FILE: join(dir, "shape.json") });
    expect(shape.variable).toBe("MODEL_PRICES_FILE");
    expect(shape.message).toMatch(/^MODEL_PRICES_FILE: .*shape\.json: .*models\[0\]\.input.*models\[0\]\.output/);
  });
});

describe("where usage is shown", () => {
  const disputed: ThopterRecord = {
    ...record,
    usage: { transcript: { models: models(1000), at: AT }, proxy: { models: models(2_000_000), at: AT } },
  };

  it("puts the cost in the row, the proxy's first, the thopter's own beside it when they differ", () => {
    expect(thopterRow(record, ctx).value).toContain('<td data-label="cost"><small>—</small></td>');
    const reported = thopterRow({ ...record, usage: { transcript: { models: models(), at: AT } } }, ctx).value;
    expect(reported).toMatch(
      /<span class="cost" title="\$0\.01 \(12,100 tokens, reported by the thopter\)">\$0\.01<\/span> <small>reported<\/small>/,
    );
    const row = thopterRow(disputed, ctx).value;
    expect(row).toContain('>$6.01</span> <span class="disputed">≠ $0.01 reported</span>');
  });

  it("lists tokens by kind and model on the thopter page, both figures when they differ", () => {
    const status = { paused: false, active: 0, max: 1, warnings: [], usage: usageTotal([], DEFAULT_PRICES) };
    const page = thopterPage(
      { record: disputed, status, viewers: { terminal: false, sessionLog: false, bootLog: false } },
      ctx,
    );
    expect(page).toContain("the proxy's is the one to trust");
    expect(page).toContain(
      '<table class="usage" data-source="proxy"><caption>$6.01 · counted by the model proxy</caption>',
    );
    expect(page).toContain(
      '<table class="usage" data-source="transcript"><caption>$0.01 · reported by the thopter</caption>',
    );
    expect(page).toContain(
      `<tr><td><code>${SONNET}</code></td><td>2,000,000</td><td>100</td><td>10,000</td><td>1,000</td><td>$6.01</td></tr>`,
    );
    const none = thopterPage({ record, status, viewers: { terminal: false, sessionLog: false, bootLog: false } }, ctx);
    expect(none).toContain("No usage reported yet");
  });

  it("writes it into the completion comment", () => {
    const links = { repoHtmlUrl: "https://github.com/acme/widgets", defaultBranch: "main", hubUrl: "https://hub.test" };
    const event = { kind: "report", state: "done", summary: "Fixed.", at: AT } as const;
    expect(
      renderNotice({ ...record, usage: { transcript: { models: models(), at: AT } } }, event, links, DEFAULT_PRICES),
    ).toContain("- Usage so far: $0.01 (12,100 tokens, reported by the thopter)\n");
    expect(renderNotice(record, event, links, DEFAULT_PRICES)).not.toContain("Usage");
  });

  it("exports tokens by kind and model and the cost per thopter while its record exists, and the swarm's totals", async () => {
    const metrics = new MetricsRegistry();
    let records: ThopterRecord[] = [
      { ...record, usage: { transcript: { models: models(), at: AT } } },
      { ...record, id: "t2", usage: disputed.usage },
    ];
    registerUsageMetrics(metrics, () => records, DEFAULT_PRICES);
    const text = await metrics.metrics();
    expect(text).toContain(
      `thopter_usage_tokens{thopter="t1",model="${SONNET}",kind="cache_write",source="transcript"} 1000`,
    );
    expect(text).toContain(`thopter_usage_tokens{thopter="t2",model="${SONNET}",kind="input",source="proxy"} 2000000`);
    expect(text).toContain('thopter_usage_cost_usd{thopter="t1",source="transcript"} 0.01125');
    expect(text).toContain(`thopter_swarm_usage_tokens{model="${SONNET}",kind="input"} 2001000`);
    expect(Number(text.match(/^thopter_swarm_usage_cost_usd (.+)$/m)?.[1])).toBeCloseTo(6.0195, 10);
    records = [records[1]!];
    const later = await metrics.metrics();
    expect(later).not.toContain('thopter="t1"');
    expect(later).toContain(`thopter_swarm_usage_tokens{model="${SONNET}",kind="input"} 2000000`);
  });
});
