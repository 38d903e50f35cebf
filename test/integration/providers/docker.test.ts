import { describe, it } from "vitest";
import { hasContainerEngine } from "../../helpers/container-engine.js";
import {
  type DockerRig,
  execIn,
  hostPid,
  PROBES_IN_IMAGE,
  probeImage,
  removeImage,
  startDockerRig,
  thopterTestImage,
} from "../../helpers/docker-rig.js";
import { providerContract } from "./contract.js";

if (!hasContainerEngine) {
  describe("docker provider contract", () => {
    it.skip("needs root with podman and buildah (CI installs them)", () => {});
  });
} else {
  providerContract("docker (through Podman's Docker API)", async () => {
    const image = probeImage(thopterTestImage());
    let rig: DockerRig | undefined;
    try {
      rig = await startDockerRig(image);
    } catch (err) {
      removeImage(image);
      throw err;
    }
    const { docker, provider, gateway } = rig;
    return {
      provider,
      expectedIsolation: "full",
      probeEntrypoint: ["node", `${PROBES_IN_IMAGE}/probe.mjs`],
      probeEnv: { PROBE_ROOTS: "/etc/thopter,/home/thopter" },
      receiverAddress: { listen: "0.0.0.0", advertise: gateway },
      volumeExists: async (ref) =>
        docker
          .getVolume(ref.volumeId!)
          .inspect()
          .then(
            () => true,
            () => false,
          ),
      agentIds: async (ref) => {
        const id = (flag: string) => Number(execIn(ref.id, "root", ["id", flag, "thopter"]).output.trim());
        return { uid: id("-u"), gid: id("-g") };
      },
      hostPid: (ref, pid) => hostPid(docker, ref.id, pid),
      close: async () => {
        await rig.close();
        removeImage(image);
      },
    };
  });
}
