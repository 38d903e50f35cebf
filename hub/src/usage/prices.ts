import { readFileSync } from "node:fs";
import { DEFAULT_PRICES, PriceTable } from "@thopter/protocol";
import { z } from "zod";

/**
 * The price table costs are worked out with: MODEL_PRICES_FILE (JSON of `PriceTable`) when set, else the one shipped
 * in `protocol/data/model-prices.json`. Throws one line saying what is wrong with the file.
 */
export function loadPrices(file: string | undefined): PriceTable {
  if (file === undefined) return DEFAULT_PRICES;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not JSON`);
  }
  const parsed = PriceTable.safeParse(value);
  if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error).replace(/\s*\n\s*/g, " ")}`);
  return parsed.data;
}
