import { describe, it } from "vitest";
import { CrashWorld, type StoreKind } from "./harness.js";
import { CRASH_POINTS } from "./points.js";

/**
 * Every crash point on one kind of store: kill -9 there, restart, and check the promises of issue 11. Redis without
 * persistence loses everything at the crash point instead: the hub must stop in the "store lost data" state.
 */
export function crashSuite(kind: StoreKind): void {
  describe(`kill -9 at each step (${kind} store)`, () => {
    for (const point of CRASH_POINTS) {
      it(point.name, async () => {
        const world = await CrashWorld.open(kind);
        try {
          const expected = await point.run(world);
          if (kind === "redis-volatile") await world.assertStoppedOnLostData();
          else await world.assertInvariants(expected);
        } finally {
          await world.close();
        }
      }, 180_000);
    }
  });
}
