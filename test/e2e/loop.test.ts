import { describe, it } from "vitest";
import { asRoot, ROOT_ONLY, useWorld } from "./harness.js";
import { runLoop } from "./loop.js";

// The demo's loop as a user sees it: on the issue, on the repository, and on the dashboard.
const world = useWorld();

describe.skipIf(!asRoot)(
  `/thopter on an issue, local provider, real Claude CLI on the scripted model ${ROOT_ONLY}`,
  () => {
    it("reacts 👀 and 🚀, pushes the fix, opens a draft PR, comments with links, and the dashboard shows done", async () => {
      await runLoop(world, { sessionLog: true });
    }, 150_000);
  },
);
