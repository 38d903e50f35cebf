import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlyMachinesClient, type FlyMachinesClientOptions } from "@thopter/fly";
import { pino } from "pino";
import { FlyPeer, type FlyPeerOptions } from "../../peers/fly/index.js";

/** Fly's limits scaled up 20×, so tests exercise the limiter without waiting seconds. */
export const FAST_LIMITS = { default: { perSecond: 20, burst: 3 } };

export interface FlyHarness {
  peer: FlyPeer;
  client: FlyMachinesClient;
  /** Everything the client logged, one parsed pino line each. */
  logLines: Record<string, unknown>[];
  /** A fresh directory for `run` machines, removed by close(). */
  dir: string;
  /** Stops the peer and its machines, removes the directory, then fails if the peer saw an OpenAPI violation. */
  close(options?: { violationsExpected?: boolean }): Promise<void>;
}

export const quiet = pino({ level: "silent" });

/** A peer and a client pointed at it, with fast rate limits and retries. */
export async function startFly(
  peerOptions: Omit<FlyPeerOptions, "run"> & { run?: Omit<NonNullable<FlyPeerOptions["run"]>, "root"> } = {},
  clientOptions: Partial<FlyMachinesClientOptions> = {},
): Promise<FlyHarness> {
  const dir = await mkdtemp(join(tmpdir(), "fly-peer-"));
  const { run, ...rest } = peerOptions;
  const peer = await FlyPeer.start({ ...rest, ...(run ? { run: { ...run, root: join(dir, "machines") } } : {}) });
  const logLines: Record<string, unknown>[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
  const client = new FlyMachinesClient({
    app: peer.app,
    token: peer.token,
    apiUrl: peer.url,
    logger,
    rateLimits: FAST_LIMITS,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    ...clientOptions,
  });
  return {
    peer,
    client,
    logLines,
    dir,
    async close({ violationsExpected = false } = {}) {
      await peer.close();
      await rm(dir, { recursive: true, force: true });
      if (!violationsExpected) peer.assertClean();
    },
  };
}

/** A machine request that needs nothing from an image. */
export function machineRequest(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    region: "iad",
    config: { image: "registry.fly.io/thopter:latest", restart: { policy: "no" as const }, ...extra },
  };
}
