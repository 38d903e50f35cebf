import { randomBytes } from "node:crypto";
import { buildImages, type ContainerEngine, startContainerEngine } from "../helpers/container-engine.js";
import { dockerWorld, removeContainers } from "../helpers/docker-rig.js";
import type { WorldOptions } from "./world.js";

/** `pnpm demo --docker` (or PROVIDER=docker): the world's settings for a thopter in a container, and its cleanup. */
export interface DockerDemo {
  options: WorldOptions;
  /** One line for the introduction: where the container runs. */
  where: string;
  close(): Promise<void>;
}

export const wantsDocker = (argv: string[], env: NodeJS.ProcessEnv) =>
  argv.includes("--docker") || env.PROVIDER === "docker";

/**
 * With DOCKER_HOST set: that engine (Docker or Podman) and THOPTER_IMAGE (default thopter:latest; the failure comment
 * says how to build it). Without: Podman's Docker API on a private socket, and the images built from the committed
 * tree by test/containers/build-images.sh when missing (root, podman, buildah; minutes the first time) unless
 * THOPTER_IMAGE names one.
 * Peers and firewall as `dockerWorld` sets them.
 */
export async function dockerDemo(say: (line: string) => void): Promise<DockerDemo> {
  let engine: ContainerEngine | undefined;
  let dockerHost = process.env.DOCKER_HOST;
  let image = process.env.THOPTER_IMAGE ?? "thopter:latest";
  if (!dockerHost) {
    say(
      "No DOCKER_HOST: starting Podman's Docker API, building the thopter image if missing (minutes the first time)…",
    );
    image = process.env.THOPTER_IMAGE ?? buildImages().thopter;
    engine = await startContainerEngine();
    dockerHost = engine.dockerHost;
  }
  const hubId = `demo-${randomBytes(3).toString("hex")}`;
  const options = dockerWorld(dockerHost, hubId, image);
  return {
    options,
    where: `Thopters run as containers of ${image} on ${dockerHost} (firewall off in the demo; peers on ${options.peerAddress.advertise}).`,
    // The demo removes everything it made: a thopter still stopping when the hub stopped leaves its container.
    close: async () => {
      await removeContainers(dockerHost, hubId);
      await engine?.stop();
    },
  };
}
