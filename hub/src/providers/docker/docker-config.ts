import { NAME_PATTERN } from "@thopter/protocol";
import { z } from "zod";
import { integer, positiveNumber } from "../../config-values.js";

/** DOCKER_HOST as Docker's own tools take it: a unix socket or a plain-TCP endpoint (TLS is not supported). */
const dockerHost = z.string().regex(/^(unix:\/\/\/.+|tcp:\/\/[^/]+:\d+)$/, "is not unix:///PATH or tcp://HOST:PORT");

/** The docker provider's variables (PROVIDER=docker), merged into the hub's schema. */
export const DOCKER_ENV = {
  DOCKER_HOST: dockerHost.default("unix:///var/run/docker.sock"),
  DOCKER_NETWORK: z.string().default("bridge"),
  DOCKER_HUB_ID: z.string().regex(NAME_PATTERN, `must match ${NAME_PATTERN.source}`).default("thopter"),
  DOCKER_CPUS: positiveNumber(2),
  DOCKER_MEMORY_MB: integer(512, 1_048_576, 4096),
  DOCKER_PIDS_LIMIT: integer(64, 1_000_000, 4096),
};

export const DOCKER_FIX = {
  DOCKER_HOST:
    "set it to unix:///var/run/docker.sock, Podman's socket (unix:///run/podman/podman.sock) or tcp://HOST:PORT",
  DOCKER_NETWORK: "set it to an engine network thopters join (default bridge)",
  DOCKER_HUB_ID: "set it to a name unique to this hub among those sharing the engine (default thopter)",
  DOCKER_CPUS: "set it to the CPUs one thopter container may use, e.g. 1.5 (default 2)",
  DOCKER_MEMORY_MB: "set it to one thopter container's memory limit in MB (512 to 1048576; default 4096)",
  DOCKER_PIDS_LIMIT: "set it to the most processes one thopter container may run (64 to 1000000; default 4096)",
} as const;

/** dockerode's connection options for a validated DOCKER_HOST. */
export function dockerConnection(host: string): { socketPath: string } | { host: string; port: number } {
  if (host.startsWith("unix://")) return { socketPath: host.slice("unix://".length) };
  const url = new URL(host.replace(/^tcp:/, "http:"));
  return { host: url.hostname, port: Number(url.port) };
}
