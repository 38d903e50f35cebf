import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, readFile, readlink } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { resolve } from "node:path";
import { dockerConnection } from "@thopter/hub/providers/docker/docker-config";
import { DockerProvider, type DockerProviderOptions } from "@thopter/hub/providers/docker/docker-provider";
import Docker from "dockerode";
import pino, { type Logger } from "pino";
import { buildImages, CONTAINERS_CONF, type ContainerEngine, startContainerEngine } from "./container-engine.js";

/**
 * The thopter image the container suites run: THOPTER_TEST_IMAGE when set (a developer reusing an image already
 * built), else the one build-images.sh makes from the committed tree.
 */
export function thopterTestImage(): string {
  return process.env.THOPTER_TEST_IMAGE ?? buildImages().thopter;
}

const PROBES = resolve(import.meta.dirname, "../fixtures/probe");
/** Where the image from `probeImage` holds test/fixtures/probe (probe.mjs, attack.mjs). */
export const PROBES_IN_IMAGE = "/opt/probe";

/** The thopter image plus test/fixtures/probe at PROBES_IN_IMAGE (buildah: a copy and a commit, seconds). */
export function probeImage(base: string): string {
  const image = `localhost/thopter-probe:${randomBytes(4).toString("hex")}`;
  const env = { ...process.env, CONTAINERS_CONF };
  const run = (...args: string[]) => execFileSync("buildah", args, { env, encoding: "utf8" }).trim();
  const work = run("from", "--pull-never", base);
  try {
    run("copy", work, PROBES, PROBES_IN_IMAGE);
    run("commit", "-q", work, image);
  } finally {
    run("rm", work);
  }
  return image;
}

export function removeImage(image: string): void {
  execFileSync("podman", ["rmi", "-f", image], { env: { ...process.env, CONTAINERS_CONF }, stdio: "ignore" });
}

export interface DockerRig {
  engine: ContainerEngine;
  docker: Docker;
  provider: DockerProvider;
  /** The provider's settings, to make a variant of it. */
  settings: DockerProviderOptions;
  hubId: string;
  /** Where containers reach this host. */
  gateway: string;
  /** This rig's containers and volumes still on the engine (what a test asserts is empty at the end). */
  leftovers(): Promise<{ containers: string[]; volumes: string[] }>;
  close(): Promise<void>;
}

/** Podman's Docker API on a private socket and a docker provider on it, with a hub id of its own. */
export async function startDockerRig(
  image: string,
  options: Partial<DockerProviderOptions> & { log?: Logger } = {},
): Promise<DockerRig> {
  const engine = await startContainerEngine();
  const docker = new Docker({ socketPath: engine.socketPath });
  const hubId = options.hubId ?? `test-${randomBytes(4).toString("hex")}`;
  const settings: DockerProviderOptions = {
    docker,
    dockerHost: engine.dockerHost,
    image,
    hubId,
    network: "bridge",
    cpus: 1,
    memoryMb: 1024,
    pidsLimit: 512,
    volumePath: "/data",
    agentUser: "thopter",
    stopGraceSeconds: 2,
    log: pino({ level: "silent" }),
    ...options,
  };
  const provider = new DockerProvider(settings);
  const filters = JSON.stringify({ label: [`thopter.hub=${hubId}`] });
  const leftovers = async () => ({
    containers: (await docker.listContainers({ all: true, filters })).map((c) => c.Names[0] ?? c.Id),
    volumes: ((await docker.listVolumes({ filters })).Volumes ?? []).map((v) => v.Name),
  });
  return {
    engine,
    docker,
    provider,
    settings,
    hubId,
    gateway: await provider.hostAddress(),
    leftovers,
    async close() {
      await removeContainers(engine.dockerHost, hubId);
      await engine.stop();
    },
  };
}

/** Removes every container and volume labelled with `hubId` on the engine at `dockerHost` (a test's or demo's end). */
export async function removeContainers(dockerHost: string, hubId: string): Promise<void> {
  const docker = new Docker(dockerConnection(dockerHost));
  const filters = JSON.stringify({ label: [`thopter.hub=${hubId}`] });
  for (const c of await docker.listContainers({ all: true, filters })) {
    await docker.getContainer(c.Id).remove({ force: true, v: true });
  }
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove();
}

/** The host pid of `pid` as seen inside the container's pid namespace (last field of NSpid in /proc/N/status). */
export async function hostPid(docker: Docker, containerId: string, pid: number): Promise<number> {
  const init = (await docker.getContainer(containerId).inspect()).State.Pid;
  const ns = await readlink(`/proc/${init}/ns/pid`);
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await readlink(`/proc/${entry}/ns/pid`)) !== ns) continue;
      const nspid = (await readFile(`/proc/${entry}/status`, "utf8")).match(/^NSpid:\s+(.+)$/m)?.[1]?.split(/\s+/);
      if (Number(nspid?.at(-1)) === pid) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  throw new Error(`no process ${pid} in container ${containerId}`);
}

/** Runs a command in a running container as `user`, returning its exit code and output. */
export function execIn(containerId: string, user: string, command: string[]): { status: number; output: string } {
  try {
    const output = execFileSync("podman", ["exec", "--user", user, containerId, ...command], {
      env: { ...process.env, CONTAINERS_CONF },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { status: 0, output };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    return { status: e.status ?? 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

/** This host's address on its own network (not loopback, not `gateway`, the container bridge's): containers reach it. */
export function hostLanAddress(gateway?: string): string {
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  const found = all.find(
    (a) => a.family === "IPv4" && !a.internal && a.address !== gateway && !a.address.startsWith("10.88."),
  );
  if (!found) throw new Error("this host has no IPv4 address besides loopback and the container bridge");
  return found.address;
}

/**
 * The demo world's settings for PROVIDER=docker: peers on this host's own address (a container cannot reach its
 * loopback), and no firewall (it would refuse a GitHub on a private address; the containment suite runs it).
 */
export function dockerWorld(dockerHost: string, hubId: string, image: string) {
  return {
    peerAddress: { listen: "0.0.0.0", advertise: hostLanAddress() },
    hubEnv: {
      PROVIDER: "docker",
      DOCKER_HOST: dockerHost,
      DOCKER_HUB_ID: hubId,
      THOPTER_IMAGE: image,
      DANGEROUSLY_SKIP_FIREWALL: "I_UNDERSTAND",
    },
  };
}
