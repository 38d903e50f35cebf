import { afterEach, describe, expect, it } from "vitest";
import { startWorld, type World } from "../demo/world.js";
import { type ContainerEngine, hasContainerEngine, startContainerEngine } from "../helpers/container-engine.js";
import { dockerWorld } from "../helpers/docker-rig.js";
import { until } from "./harness.js";

// What a user sees on the issue when PROVIDER=docker cannot make a container: one failure comment saying what to run.
let engine: ContainerEngine | undefined;
let world: World | undefined;

/** A hub on a running engine; `before` breaks something, then `/thopter` and its failure comment. */
async function failureComment(image: string, before: () => Promise<void> = async () => {}): Promise<string> {
  engine = await startContainerEngine();
  world = await startWorld(dockerWorld(engine.dockerHost, "e2e-failures", image));
  await before();
  world.comment("/thopter");
  const w = world;
  return until(() => w.replies().find((r) => r.startsWith("⚠️")) ?? "", 60_000, "the failure comment");
}

describe.skipIf(!hasContainerEngine)(
  "/thopter with PROVIDER=docker when no container can be made (root with podman)",
  () => {
    afterEach(async () => {
      await world?.close();
      await engine?.stop();
      world = undefined;
      engine = undefined;
    }, 60_000);

    it("an image that is missing: the comment says how to build it", async () => {
      const comment = await failureComment("localhost/thopter-missing:e2e");
      expect(comment).toContain(
        "the thopter image localhost/thopter-missing:e2e is not on the container engine: build it from the repository root with `docker build -f thopter/Dockerfile -t localhost/thopter-missing:e2e .`",
      );
      expect(world!.replies()).toHaveLength(1);
    }, 120_000);

    it("a daemon that went down: the comment says to start it", async () => {
      let dockerHost = "";
      const comment = await failureComment("thopter:latest", async () => {
        dockerHost = engine!.dockerHost;
        await engine!.stop();
      });
      expect(comment).toContain(`the container engine at ${dockerHost} is not answering (ENOENT): start it`);
      expect(world!.replies()).toHaveLength(1);
    }, 120_000);
  },
);
