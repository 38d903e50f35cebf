import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Bench, BenchRow } from "./bench.js";

export interface BenchSelection {
  /** Only benches whose file name contains one of these (all when empty). */
  filters?: string[];
  /** Only the quick pass of count rows, of the benches that have one. */
  counts?: boolean;
  progress?: (name: string) => void;
}

/** Runs the selected `test/bench/*.bench.ts`, in file-name order; a bench that throws becomes one failed row. */
export async function benchRows({ filters = [], counts = false, progress }: BenchSelection = {}): Promise<BenchRow[]> {
  const dir = import.meta.dirname;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".bench.ts"))
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .sort();
  const rows: BenchRow[] = [];
  for (const file of files) {
    const bench = (await import(join(dir, file))).default as Bench;
    const pass = counts ? bench.counts : bench.run;
    if (!pass) continue;
    progress?.(bench.name);
    try {
      rows.push(...(await pass.call(bench)));
    } catch (err) {
      rows.push({ area: bench.name, metric: "error", value: String(err), ok: false });
    }
  }
  return rows;
}
