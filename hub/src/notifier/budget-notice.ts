import {
  addCounts,
  costOf,
  DEFAULT_PRICES,
  type ModelUsage,
  type PriceTable,
  type ThopterRecord,
  ZERO_COUNTS,
} from "@thopter/protocol";

/** The hub's budget settings, as a budget notice states them. */
export const budgetTerms = (config: { MAX_COST_USD?: number; BUDGET_GRACE_MIN: number }): BudgetTerms => ({
  maxCostUsd: config.MAX_COST_USD,
  graceMin: config.BUDGET_GRACE_MIN,
});

export interface BudgetTerms {
  /** MAX_COST_USD (per thopter), when set. */
  maxCostUsd?: number;
  /** BUDGET_GRACE_MIN. */
  graceMin: number;
  prices?: PriceTable;
}

const usd = (n: number) => `$${n.toFixed(2)}`;
const count = (n: number) => n.toLocaleString("en-US");
/** A model id comes from the model's answers: nothing in it may break out of its table cell. */
const modelCell = (model: string) => `\`${model.replace(/[`|<>\r\n]/g, "")}\``;

/** The usage the hub trusts most: the proxy's count (the agent cannot forge it), else the transcript's. */
export function trustedUsage(
  record: Readonly<ThopterRecord>,
): { models: ModelUsage; at: string; source: string } | undefined {
  if (record.usage?.proxy) return { ...record.usage.proxy, source: "counted by the model proxy" };
  if (record.usage?.transcript) return { ...record.usage.transcript, source: "read from the transcript" };
  return undefined;
}

/** What a thopter spent, in Markdown: the total against the budget, then tokens and cost by model. */
export function spentLines(record: Readonly<ThopterRecord>, terms: BudgetTerms): string[] {
  const usage = trustedUsage(record);
  if (!usage) return ["No usage figures reached the hub, so what was spent cannot be shown here."];
  const prices = terms.prices ?? DEFAULT_PRICES;
  const total = costOf(usage.models, prices);
  const budget = terms.maxCostUsd === undefined ? "" : ` of its ${usd(terms.maxCostUsd)} budget (\`MAX_COST_USD\`)`;
  const lines = [`Spent: **${usd(total.usd)}**${budget}, ${usage.source}.`, ""];
  lines.push("| model | input | output | cache read | cache write | cost |", "|---|--:|--:|--:|--:|--:|");
  let all = ZERO_COUNTS;
  for (const [model, t] of Object.entries(usage.models)) {
    all = addCounts(all, t);
    const cost = costOf({ [model]: t }, prices);
    const shown = cost.unpriced.length ? "no price known" : usd(cost.usd);
    lines.push(
      `| ${modelCell(model)} | ${count(t.input)} | ${count(t.output)} | ${count(t.cacheRead)} | ${count(t.cacheWrite)} | ${shown} |`,
    );
  }
  lines.push(
    `| all | ${count(all.input)} | ${count(all.output)} | ${count(all.cacheRead)} | ${count(all.cacheWrite)} | ${usd(total.usd)} |`,
  );
  return lines;
}
