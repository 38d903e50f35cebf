import { FlyMachinesClient } from "@thopter/fly";
import Docker from "dockerode";
import type { Logger } from "pino";
import type { HubConfig } from "../config.js";
import { dockerConnection } from "./docker/docker-config.js";
import { DockerProvider } from "./docker/docker-provider.js";
import { FlyProvider } from "./fly/fly-provider.js";
import { LocalProvider } from "./local/local-provider.js";
import type { Provider } from "./provider.js";

export type { MachineInfo, MachineOwner, MachineState, Provider } from "./provider.js";

/** Claude Code wants more memory than the small presets have. */
const DEFAULT_VM_SIZE = "shared-cpu-2x:2048";

type ProviderConfig = Pick<
  HubConfig,
  | "PROVIDER"
  | "LOCAL_THOPTER_ROOT"
  | "LOCAL_THOPTER_UID_RANGE"
  | "FLY_API_URL"
  | "FLY_API_TOKEN"
  | "APP_NAME"
  | "REGION"
  | "THOPTER_IMAGE"
  | "THOPTER_VM_SIZE"
  | "FLY_RATE_LIMIT_DEADLINE_MS"
  | "DOCKER_HOST"
  | "DOCKER_NETWORK"
  | "DOCKER_HUB_ID"
  | "DOCKER_CPUS"
  | "DOCKER_MEMORY_MB"
  | "DOCKER_PIDS_LIMIT"
>;

/** The image `docker build -f thopter/Dockerfile -t thopter .` makes. */
const DEFAULT_DOCKER_IMAGE = "thopter:latest";

/** The provider PROVIDER names, built from the hub's validated configuration. */
export function createProvider(config: ProviderConfig, log: Logger): Provider {
  if (config.PROVIDER === "local") {
    return new LocalProvider({
      root: config.LOCAL_THOPTER_ROOT,
      uidRange: config.LOCAL_THOPTER_UID_RANGE,
      log: log.child({ provider: "local" }),
    });
  }
  if (config.PROVIDER === "docker") {
    return new DockerProvider({
      docker: new Docker(dockerConnection(config.DOCKER_HOST)),
      dockerHost: config.DOCKER_HOST,
      image: config.THOPTER_IMAGE ?? DEFAULT_DOCKER_IMAGE,
      hubId: config.DOCKER_HUB_ID,
      network: config.DOCKER_NETWORK,
      cpus: config.DOCKER_CPUS,
      memoryMb: config.DOCKER_MEMORY_MB,
      pidsLimit: config.DOCKER_PIDS_LIMIT,
      volumePath: "/data",
      agentUser: "thopter",
      log: log.child({ provider: "docker" }),
    });
  }
  const client = new FlyMachinesClient({
    app: config.APP_NAME ?? "",
    token: config.FLY_API_TOKEN ?? "",
    apiUrl: config.FLY_API_URL,
    logger: log,
    rateLimitDeadlineMs: config.FLY_RATE_LIMIT_DEADLINE_MS,
  });
  return new FlyProvider({
    client,
    image: config.THOPTER_IMAGE ?? "",
    ...(config.REGION ? { region: config.REGION } : {}),
    vmSize: config.THOPTER_VM_SIZE ?? DEFAULT_VM_SIZE,
    log: log.child({ provider: "fly" }),
  });
}
