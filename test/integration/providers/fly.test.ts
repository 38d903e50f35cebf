import { providerContract } from "./contract.js";
import { startFly } from "./fly-harness.js";

providerContract("fly (through the Fly peer)", async () => {
  const fly = await startFly();
  return {
    provider: fly.provider,
    expectedIsolation: "full",
    volumeExists: async (ref) => fly.peer.volumes().some((v) => v.id === ref.volumeId),
    close: () => fly.close(),
  };
});
