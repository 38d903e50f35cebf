// `pnpm bench [--counts] [NAME…]`: runs every test/bench/*.bench.ts (or those whose file name contains a NAME) and
// prints one table; exit code 1 when a row missed its target. `--counts`: only the quick pass of the rows that are
// counts, not times (what CI runs, through test/bench/counts.test.ts).
import { benchRows } from "./benches.js";

const args = process.argv.slice(2);
const rows = await benchRows({
  filters: args.filter((a) => a !== "--counts"),
  counts: args.includes("--counts"),
  progress: (name) => process.stderr.write(`running ${name}…\n`),
});

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
