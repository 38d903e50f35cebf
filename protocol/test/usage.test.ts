import { describe, expect, it } from "vitest";
import { costOf, DEFAULT_PRICES, PriceTable, priceOf } from "../src/usage.js";

describe("model prices", () => {
  it("prices a model by its longest matching prefix", () => {
    expect(priceOf("claude-opus-4-5-20251101", DEFAULT_PRICES)?.input).toBe(5);
    expect(priceOf("claude-opus-4-1-20250805", DEFAULT_PRICES)?.input).toBe(15);
  });

  it("counts each token kind at its own price and lists models it cannot price", () => {
    const table = PriceTable.parse({ models: [{ match: "m", input: 1, output: 2, cacheRead: 3, cacheWrite: 4 }] });
    const one = { input: 1_000_000, output: 1_000_000, cacheRead: 1_000_000, cacheWrite: 1_000_000 };
    const cost = costOf({ "m-1": one, other: one }, table);
    expect(cost.usd).toBe(10);
    expect(cost.unpriced).toEqual(["other"]);
  });
});
