import { costOf, type ModelUsage, type PriceTable } from "@thopter/protocol";

/**
 * Status and body of the answer to a model request once the budget is spent: 402 `billing_error`, as the Messages
 * API answers an account out of credit. Claude Code's client retries 408, 409, 429 and 5xx, not this: the CLI shows
 * the message at once (and `x-should-retry: false` says so to any Anthropic SDK).
 */
export const BUDGET_STATUS = 402;

const usd = (n: number) => `$${n.toFixed(2)}`;

export interface Budget {
  /** What was spent so far, priced; models the table does not know are named, not guessed. */
  spent(models: ModelUsage): { usd: number; unpriced: string[] };
  /** Whether new model requests are refused. */
  exhausted(models: ModelUsage): boolean;
  /** The sentence the agent (and the hub, in the blocked report) reads. */
  message(models: ModelUsage): string;
}

export function budget(maxCostUsd: number | undefined, prices: PriceTable): Budget {
  const spent = (models: ModelUsage) => costOf(models, prices);
  return {
    spent,
    exhausted: (models) => maxCostUsd !== undefined && spent(models).usd >= maxCostUsd,
    message(models) {
      const { usd: cost, unpriced } = spent(models);
      const unknown = unpriced.length ? ` (not counting ${unpriced.join(", ")}, which the price table lacks)` : "";
      return `This thopter's model budget is spent: ${usd(cost)} of ${usd(maxCostUsd ?? 0)} (MAX_COST_USD)${unknown}. The model proxy refuses new model requests; report_status blocked and stop.`;
    },
  };
}

export function budgetErrorBody(message: string): string {
  return JSON.stringify({ type: "error", error: { type: "billing_error", message } });
}
