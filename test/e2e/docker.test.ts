import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { REPO, startWorld, type World } from "../demo/world.js";
import { type ContainerEngine, hasContainerEngine, startContainerEngine } from "../helpers/container-engine.js";
import { dockerWorld, thopterTestImage } from "../helpers/docker-rig.js";
import { assertNoProcessesMentioning } from "../helpers/leftovers.js";
import { reactions, until } from "./harness.js";
import { runLoop } from "./loop.js";

// The same loop with PROVIDER=docker: each thopter is a container of the real thopter image on Podman's Docker API.
// The peers listen on this host's own address (a container cannot reach its loopback). The firewall is off here
// (no DNS answers for the names it must resolve): test/integration/providers/docker-containment.test.ts runs it.
let engine: ContainerEngine;
let docker: Docker;
const hubId = `e2e-${randomBytes(4).toString("hex")}`;
const world = {} as World;

async function leftovers(): Promise<{ containers: number; volumes: number }> {
  const filters = JSON.stringify({ label: [`thopter.hub=${hubId}`] });
  return {
    containers: (await docker.listContainers({ all: true, filters })).length,
    volumes: ((await docker.listVolumes({ filters })).Volumes ?? []).length,
  };
}

describe.skipIf(!hasContainerEngine)("/thopter with PROVIDER=docker (root with podman and buildah)", () => {
  beforeEach(async () => {
    const image = thopterTestImage();
    engine = await startContainerEngine();
    docker = new Docker({ socketPath: engine.socketPath });
    Object.assign(world, await startWorld(dockerWorld(engine.dockerHost, hubId, image)));
  }, 900_000);
  afterEach(async () => {
    await world.close();
    const left = await leftovers();
    await engine.stop();
    await assertNoProcessesMentioning(world.dir);
    world.peer.assertClean();
    expect(left).toEqual({ containers: 0, volumes: 0 });
  }, 120_000);

  it("the whole loop in a container; `/thopter stop` then removes the container and its volume", async () => {
    const { thopter } = await runLoop(world, { sessionLog: false });
    expect(thopter.machine).toMatchObject({ provider: "docker" });
    expect(await leftovers()).toEqual({ containers: 1, volumes: 1 });
    expect(world.peer.pulls(REPO)).toHaveLength(1);

    const stop = world.comment("/thopter stop");
    await until(() => reactions(world, stop, "eyes") === 1, 20_000, "👀 on /thopter stop");
    await until(async () => (await world.thopters())[0]?.state === "gone", 30_000, "the thopter to be gone");
    expect(await leftovers()).toEqual({ containers: 0, volumes: 0 });
  }, 240_000);
});
