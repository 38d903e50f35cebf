import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Podman's settings for this machine (runc, lowered rlimits): see test/containers/containers.conf. */
export const CONTAINERS_CONF = resolve(import.meta.dirname, "../containers/containers.conf");

/** Root with podman and buildah installed: the container suites need both (CI installs them). */
export const hasContainerEngine =
  process.getuid?.() === 0 &&
  spawnSync("podman", ["--version"]).status === 0 &&
  spawnSync("buildah", ["--version"]).status === 0;

export interface ThopterImages {
  thopter: string;
  hub: string;
}

let built: ThopterImages | undefined;

/**
 * Both images, built from the committed tree by test/containers/build-images.sh (cached per tree, so only the first
 * suite of a run pays for the build). Minutes on a cold machine: give the calling hook a long timeout.
 */
export function buildImages(): ThopterImages {
  if (built) return built;
  const script = resolve(import.meta.dirname, "../containers/build-images.sh");
  const out = execFileSync("bash", [script], {
    env: { ...process.env, CONTAINERS_CONF },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 20,
  });
  const [thopter, hub] = out.trim().split("\n");
  if (!thopter || !hub) throw new Error(`build-images.sh printed no image names: ${out}`);
  built = { thopter, hub };
  return built;
}

export interface ContainerEngine {
  /** `unix:///…/podman.sock` (or with `tcpPort`, `tcp://127.0.0.1:PORT`), as DOCKER_HOST takes it. */
  dockerHost: string;
  socketPath: string;
  stop(): Promise<void>;
}

type Endpoint = { socketPath: string } | { host: string; port: number };

function pings(endpoint: Endpoint): Promise<boolean> {
  return new Promise((done) => {
    const req = request({ ...endpoint, path: "/_ping", timeout: 1000 }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on("error", () => done(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/**
 * Podman's Docker-compatible API on a private socket (`podman system service`), stopped by `stop()`; with `tcpPort`
 * on 127.0.0.1:tcpPort instead (for a proxy in front of it, which speaks TCP).
 */
export async function startContainerEngine(tcpPort?: number): Promise<ContainerEngine> {
  const dir = mkdtempSync("/tmp/thopter-engine-");
  const socketPath = join(dir, "podman.sock");
  const listen = tcpPort ? `tcp://127.0.0.1:${tcpPort}` : `unix://${socketPath}`;
  const endpoint: Endpoint = tcpPort ? { host: "127.0.0.1", port: tcpPort } : { socketPath };
  // Its own process group: a Ctrl-C meant for the demo must leave the engine up until the demo has removed its
  // containers through it (stop() ends it).
  const child: ChildProcess = spawn("podman", ["system", "service", "--time=0", listen], {
    detached: true,
    env: { ...process.env, CONTAINERS_CONF },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (c) => {
    stderr += c;
  });
  const deadline = Date.now() + 30_000;
  while (!((tcpPort || existsSync(socketPath)) && (await pings(endpoint)))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`podman system service did not answer on ${listen}: ${stderr.slice(-2000)}`);
    }
    await sleep(100);
  }
  return {
    dockerHost: listen,
    socketPath,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, sleep(10_000)]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
