// The docker provider beside the local one, on the demo's world (real hub, real Claude CLI, scripted model): provision
// call → Claude's first API request, and stop → everything removed; and the images' sizes. Root with podman and
// buildah; THOPTER_TEST_IMAGE reuses an image already built (else test/containers/build-images.sh builds one).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { startWorld, type World, type WorldOptions } from "../demo/world.js";
import { buildImages, CONTAINERS_CONF, hasContainerEngine, startContainerEngine } from "../helpers/container-engine.js";
import { dockerWorld, thopterTestImage } from "../helpers/docker-rig.js";
import { until } from "../integration/hub/harness.js";
import type { Bench, BenchRow } from "./bench.js";

const AREA = "container provider";

interface Timing {
  boot: number;
  stop: number;
}

/** One `/thopter`: from the hub's provision call to Claude's first request, then from the stop to all removed. */
async function timeOne(options: WorldOptions, removed: () => Promise<boolean>): Promise<Timing> {
  const world: World = await startWorld(options);
  try {
    world.comment("/thopter");
    const first = await world.model.waitForTurn(0, 300_000);
    const [thopter] = await world.thopters();
    const provisioning = thopter!.timeline.find((e) => e.message.startsWith("creating a"));
    const boot = first.at - Date.parse(provisioning!.at);
    const stopAt = Date.now();
    await world.api(`/api/thopters/${thopter!.id}/stop`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    await until(
      async () => (await world.thopters())[0]?.state === "gone" && (await removed()),
      60_000,
      "the thopter to be gone",
    );
    return { boot, stop: Date.now() - stopAt };
  } finally {
    await world.close();
  }
}

function imageSize(image: string): number {
  const out = execFileSync("podman", ["image", "inspect", "--format", "{{.Size}}", image], {
    env: { ...process.env, CONTAINERS_CONF },
    encoding: "utf8",
  });
  return Math.round(Number(out.trim()) / 1e6);
}

const bench: Bench = {
  name: "container provider",
  async run(): Promise<BenchRow[]> {
    if (!hasContainerEngine) return [{ area: AREA, metric: "skipped", value: "needs root with podman and buildah" }];
    const image = thopterTestImage();
    const local = await timeOne({}, async () => true);
    const engine = await startContainerEngine();
    try {
      const docker = new Docker({ socketPath: engine.socketPath });
      const hubId = `bench-${randomBytes(3).toString("hex")}`;
      const filters = JSON.stringify({ label: [`thopter.hub=${hubId}`] });
      const removed = async () =>
        (await docker.listContainers({ all: true, filters })).length === 0 &&
        ((await docker.listVolumes({ filters })).Volumes ?? []).length === 0;
      const container = await timeOne(dockerWorld(engine.dockerHost, hubId, image), removed);
      const hubImage = process.env.THOPTER_TEST_IMAGE ? undefined : buildImages().hub;
      return [
        { area: AREA, metric: "local: provision call → Claude's first request", value: local.boot, unit: "ms" },
        {
          area: AREA,
          metric: "docker: provision call → Claude's first request",
          value: container.boot,
          unit: "ms",
          target: "≤ 2× local",
          ok: container.boot <= 2 * local.boot,
        },
        { area: AREA, metric: "local: stop → everything removed", value: local.stop, unit: "ms" },
        {
          area: AREA,
          metric: "docker: stop → container and volume removed",
          value: container.stop,
          unit: "ms",
          target: "≤ 5000 ms",
          ok: container.stop <= 5000,
        },
        { area: AREA, metric: `image ${image}`, value: imageSize(image), unit: "MB" },
        ...(hubImage ? [{ area: AREA, metric: `image ${hubImage}`, value: imageSize(hubImage), unit: "MB" }] : []),
      ];
    } finally {
      await engine.stop();
    }
  },
};
export default bench;
