import { z } from "zod";
import defaultPrices from "../data/model-prices.json" with { type: "json" };
import { IsoTime } from "./names.js";

/** Tokens of one model, by kind, as the Messages API's `usage` counts them. */
export const TokenCounts = z.object({
  input: z.number().int().nonnegative(),
  output: z.number().int().nonnegative(),
  cacheRead: z.number().int().nonnegative(),
  cacheWrite: z.number().int().nonnegative(),
});
export type TokenCounts = z.infer<typeof TokenCounts>;

/** Totals by model id (e.g. `claude-sonnet-4-5-20250929`); a thopter uses a handful at most. */
export const ModelUsage = z.record(z.string().min(1).max(200), TokenCounts).refine((m) => Object.keys(m).length <= 50, {
  message: "at most 50 models",
});
export type ModelUsage = z.infer<typeof ModelUsage>;

/**
 * Who counted: `transcript` is read from the session transcript, a file the agent writes (so only as honest as the
 * agent); `proxy` is counted by the root-owned model proxy from the model's own responses.
 */
export const UsageSource = z.enum(["transcript", "proxy"]);
export type UsageSource = z.infer<typeof UsageSource>;

/** Cumulative totals since the thopter booted: the latest report of a source replaces the earlier one. */
export const UsageTotals = z.object({ models: ModelUsage, at: IsoTime });
export type UsageTotals = z.infer<typeof UsageTotals>;

/** A thopter's usage, one entry per source that reported. */
export const ThopterUsage = z.object({ transcript: UsageTotals.optional(), proxy: UsageTotals.optional() });
export type ThopterUsage = z.infer<typeof ThopterUsage>;

/** Dollars per million tokens of the models whose id starts with `match` (the longest match wins). */
export const ModelPrice = z.object({
  match: z.string().min(1),
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cacheRead: z.number().nonnegative(),
  cacheWrite: z.number().nonnegative(),
});
export const PriceTable = z.object({ source: z.string().optional(), models: z.array(ModelPrice).min(1) });
export type PriceTable = z.infer<typeof PriceTable>;

/** The table shipped with the code (`protocol/data/model-prices.json`); a hub may override it with a file. */
export const DEFAULT_PRICES: PriceTable = PriceTable.parse(defaultPrices);

export function priceOf(model: string, table: PriceTable): z.infer<typeof ModelPrice> | undefined {
  let best: z.infer<typeof ModelPrice> | undefined;
  for (const p of table.models) {
    if (model.startsWith(p.match) && (!best || p.match.length > best.match.length)) best = p;
  }
  return best;
}

/** Cost in US dollars; models the table does not know are listed rather than guessed. */
export function costOf(models: ModelUsage, table: PriceTable): { usd: number; unpriced: string[] } {
  let usd = 0;
  const unpriced: string[] = [];
  for (const [model, t] of Object.entries(models)) {
    const p = priceOf(model, table);
    if (!p) {
      unpriced.push(model);
      continue;
    }
    usd += (t.input * p.input + t.output * p.output + t.cacheRead * p.cacheRead + t.cacheWrite * p.cacheWrite) / 1e6;
  }
  return { usd, unpriced };
}

export function addCounts(a: TokenCounts, b: TokenCounts): TokenCounts {
  return {
    input: a.input + b.input,
    output: a.output + b.output,
    cacheRead: a.cacheRead + b.cacheRead,
    cacheWrite: a.cacheWrite + b.cacheWrite,
  };
}

export const ZERO_COUNTS: TokenCounts = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
