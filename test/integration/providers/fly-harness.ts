import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlyMachinesClient } from "@thopter/fly";
import { FlyProvider, type FlyProviderOptions } from "@thopter/hub/providers/fly/fly-provider";
import pino from "pino";
import { FlyPeer, type FlyPeerOptions } from "../../peers/fly/index.js";

export interface FlyHarness {
  peer: FlyPeer;
  provider: FlyProvider;
  client: FlyMachinesClient;
  close(): Promise<void>;
}

/** The Fly provider (test settings) on a Fly peer. */
export function flyProvider(
  peer: FlyPeer,
  providerOptions: Partial<FlyProviderOptions> = {},
): { provider: FlyProvider; client: FlyMachinesClient } {
  const log = pino({ level: "silent" });
  const client = new FlyMachinesClient({
    app: peer.app,
    token: peer.token,
    apiUrl: peer.url,
    logger: log,
    // Fly's real limits (1/s per action) would only slow the suite down; the client's limiter has its own tests.
    rateLimits: { default: { perSecond: 1_000, burst: 1_000 } },
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
  });
  const provider = new FlyProvider({
    client,
    image: "registry.fly.io/thopters:test",
    region: "iad",
    vmSize: "shared-cpu-2x:2048",
    log,
    startTimeoutSeconds: 20,
    stopTimeoutSeconds: 10,
    ...providerOptions,
  });
  return { provider, client };
}

/** The Fly provider against a Fly peer that runs machines as local processes under a fresh directory. */
export async function startFly(
  peerOptions: FlyPeerOptions = {},
  providerOptions: Partial<FlyProviderOptions> = {},
): Promise<FlyHarness> {
  const root = await mkdtemp(join(tmpdir(), "thopter-fly-"));
  const peer = await FlyPeer.start({ transitionMs: 20, run: { root, stopGraceMs: 1_000 }, ...peerOptions });
  const { provider, client } = flyProvider(peer, providerOptions);
  return {
    peer,
    provider,
    client,
    async close() {
      await peer.close();
      await rm(root, { recursive: true, force: true });
      peer.assertClean();
    },
  };
}
