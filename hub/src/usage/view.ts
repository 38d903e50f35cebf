import {
  addCounts,
  costOf,
  type ModelUsage,
  type PriceTable,
  type ThopterUsage,
  type TokenCounts,
  type UsageSource,
  ZERO_COUNTS,
} from "@thopter/protocol";

/** One source's figure, priced. */
export interface UsageFigure {
  source: UsageSource;
  /** How the figure is introduced to a reader. */
  label: string;
  models: ModelUsage;
  /** All models together, by kind. */
  tokens: TokenCounts;
  /** Dollars for the models the price table knows. */
  usd: number;
  /** Models without a price: their tokens are shown, their cost is unknown. */
  unpriced: string[];
  at: string;
}

/** What to show of a thopter's usage: the trusted figure, and the other one when the two disagree. */
export interface UsageView {
  shown: UsageFigure;
  /** The thopter's own report, when a proxy count exists and differs from it by more than rounding. */
  disputed?: UsageFigure;
}

export const LABELS: Record<UsageSource, string> = {
  proxy: "counted by the model proxy",
  transcript: "reported by the thopter",
};

/** Below this, two figures are the same one counted at slightly different moments or rounded differently. */
const MARGIN_USD = 0.01;
const MARGIN_TOKENS = 0.01;

export function tokenSum(models: ModelUsage): TokenCounts {
  return Object.values(models).reduce(addCounts, ZERO_COUNTS);
}

export const allTokens = (t: TokenCounts): number => t.input + t.output + t.cacheRead + t.cacheWrite;

function figure(source: UsageSource, totals: NonNullable<ThopterUsage["proxy"]>, prices: PriceTable): UsageFigure {
  const { usd, unpriced } = costOf(totals.models, prices);
  return {
    source,
    label: LABELS[source],
    models: totals.models,
    tokens: tokenSum(totals.models),
    usd,
    unpriced,
    at: totals.at,
  };
}

function differ(a: UsageFigure, b: UsageFigure): boolean {
  const tokens = Math.abs(allTokens(a.tokens) - allTokens(b.tokens));
  return Math.abs(a.usd - b.usd) >= MARGIN_USD || tokens > MARGIN_TOKENS * Math.max(allTokens(a.tokens), 1);
}

/**
 * The one decision of what a thopter's usage looks like everywhere (dashboard, thopter page, comment, /metrics): the
 * proxy's count when there is one (the agent cannot forge it), else the transcript's, labelled as the thopter's own.
 */
export function usageView(usage: ThopterUsage | undefined, prices: PriceTable): UsageView | undefined {
  const proxy = usage?.proxy && figure("proxy", usage.proxy, prices);
  const transcript = usage?.transcript && figure("transcript", usage.transcript, prices);
  if (proxy) return transcript && differ(proxy, transcript) ? { shown: proxy, disputed: transcript } : { shown: proxy };
  return transcript ? { shown: transcript } : undefined;
}

/** `$0.17`; under a cent `$0.0042`, so a short session does not read as free. */
export function formatUsd(usd: number): string {
  if (usd === 0) return "$0.00";
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/** The figure's cost as read: `$0.17`, `$0.17 + unknown`, or `unknown` when no model has a price. */
export function costText(f: UsageFigure): string {
  if (f.unpriced.length === Object.keys(f.models).length && f.unpriced.length > 0) return "cost unknown";
  return f.unpriced.length > 0 ? `${formatUsd(f.usd)} + unknown` : formatUsd(f.usd);
}

/** `12,345`: token counts with thousands separators. */
export const formatTokens = (n: number): string => n.toLocaleString("en-US");

/** `$0.17 (12,345 tokens, reported by the thopter)`: one line for a row or a comment. */
export function figureLine(f: UsageFigure): string {
  const unknown = f.unpriced.length > 0 ? `; no price for ${f.unpriced.join(", ")}` : "";
  return `${costText(f)} (${formatTokens(allTokens(f.tokens))} tokens, ${f.label}${unknown})`;
}

/** The whole view on one line: the shown figure, and the disputed one after it. */
export function usageLine(view: UsageView): string {
  const line = figureLine(view.shown);
  return view.disputed ? `${line}; differs from ${figureLine(view.disputed)}` : line;
}

export interface UsageTotal {
  usd: number;
  tokens: TokenCounts;
  /** Thopters with a figure. */
  counted: number;
  /** Whether some model had no price (the dollars are then a lower bound). */
  unpriced: boolean;
}

/** Every listed thopter's shown figure added up. */
export function usageTotal(usages: readonly (ThopterUsage | undefined)[], prices: PriceTable): UsageTotal {
  const total: UsageTotal = { usd: 0, tokens: ZERO_COUNTS, counted: 0, unpriced: false };
  for (const usage of usages) {
    const view = usageView(usage, prices);
    if (!view) continue;
    total.usd += view.shown.usd;
    total.tokens = addCounts(total.tokens, view.shown.tokens);
    total.counted++;
    total.unpriced ||= view.shown.unpriced.length > 0;
  }
  return total;
}
