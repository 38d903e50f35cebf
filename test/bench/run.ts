// `pnpm bench`: runs every test/bench/*.bench.ts (or those whose file name contains an argument) and prints one table.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Bench, BenchRow } from "./bench.js";

const filters = process.argv.slice(2);
const dir = import.meta.dirname;
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const rows: BenchRow[] = [];
for (const file of files) {
  const bench = (await import(join(dir, file))).default as Bench;
  process.stderr.write(`running ${bench.name}…\n`);
  try {
    rows.push(...(await bench.run()));
  } catch (err) {
    rows.push({ area: bench.name, metric: "error", value: String(err), ok: false });
  }
}

const format = (v: number | string) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v);
const table = rows.map((r) => [
  r.area,
  r.metric,
  `${format(r.value)}${r.unit ? ` ${r.unit}` : ""}`,
  r.target ?? "",
  r.ok === undefined ? "" : r.ok ? "ok" : "MISSED",
]);
const header = ["area", "metric", "value", "target", ""];
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const row of table) console.log(line(row));
process.exitCode = rows.some((r) => r.ok === false) ? 1 : 0;
