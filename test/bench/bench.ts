/** One line of the `pnpm bench` table. `target` is the goal of docs/architecture.md#performance in words; `ok` whether this run met it. */
export interface BenchRow {
  area: string;
  metric: string;
  value: number | string;
  unit?: string;
  target?: string;
  ok?: boolean;
}

/** A benchmark module is a file `test/bench/*.bench.ts` whose default export is one of these. */
export interface Bench {
  name: string;
  run(): Promise<BenchRow[]>;
  /**
   * A quick pass of the rows that are counts, not times (requests per cycle, calls per thopter): the same on any
   * machine, so `pnpm bench --counts` and CI (test/bench/counts.test.ts) fail when one regresses.
   */
  counts?(): Promise<BenchRow[]>;
}
