import { expect, it } from "vitest";
import { benchRows } from "./benches.js";

// `pnpm bench --counts` in CI: counts do not depend on the machine, so a missed target is a regression. Times stay
// out of CI (`pnpm bench` by hand).
it("meets every count target of `pnpm bench` (requests per poll cycle, Fly calls per thopter, …)", async () => {
  const rows = await benchRows({ counts: true });
  expect(rows.length).toBeGreaterThan(0);
  const missed = rows
    .filter((r) => r.ok === false)
    .map((r) => `${r.area} / ${r.metric}: ${r.value} (target ${r.target})`);
  expect(missed).toEqual([]);
}, 300_000);
