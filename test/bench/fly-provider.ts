import { FlyMachinesClient } from "@thopter/fly";
import { FlyProvider } from "@thopter/hub/providers/fly/fly-provider";
import type { Logger } from "pino";
import type { FlyPeer } from "../peers/fly/index.js";

/** The Fly provider on a Fly peer as benches use it: the client keeps Fly's real rate limits (tests lift them). */
export function benchFlyProvider(peer: FlyPeer, log: Logger): { provider: FlyProvider; client: FlyMachinesClient } {
  const client = new FlyMachinesClient({ app: peer.app, token: peer.token, apiUrl: peer.url, logger: log });
  const provider = new FlyProvider({
    client,
    image: "registry.fly.io/thopters:bench",
    region: "iad",
    vmSize: "shared-cpu-2x:2048",
    log,
  });
  return { provider, client };
}
