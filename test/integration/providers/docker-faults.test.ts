import { DockerProvider } from "@thopter/hub/providers/docker/docker-provider";
import type { ThopterSpec } from "@thopter/protocol";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasContainerEngine } from "../../helpers/container-engine.js";
import { type DockerRig, execIn, startDockerRig, thopterTestImage } from "../../helpers/docker-rig.js";
import { newOwner } from "./contract.js";

/** The agent's fork flood: 200 processes at once; prints how many started and how many the kernel refused. */
const FLOOD = `const { spawn } = require("node:child_process");
let ok = 0, failed = 0;
const settle = () => ok + failed === 200 && (console.log(JSON.stringify({ ok, failed })), process.exit(0));
for (let i = 0; i < 200; i++) {
  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  child.on("spawn", () => { ok++; settle(); });
  child.on("error", () => { failed++; settle(); });
}`;

/** A spec whose entrypoint is `command` (sh), with nothing else. */
function specFor(thopterId: string, command: string): ThopterSpec {
  return { thopterId, env: {}, files: [], entrypoint: ["/bin/sh", "-c", command] };
}

describe.skipIf(!hasContainerEngine)(
  "the docker provider's failures say what to run, and leave nothing (root with podman)",
  () => {
    let rig: DockerRig;
    beforeAll(async () => {
      rig = await startDockerRig(thopterTestImage());
    }, 600_000);
    afterAll(async () => {
      await rig?.close();
    });

    it("a missing image: build it with the Dockerfile, named with the image", async () => {
      const missing = new DockerProvider({
        ...rig.settings,
        image: "localhost/thopter-missing:nope",
      });
      const owner = newOwner();
      await expect(missing.create(specFor(owner.thopterId, "sleep 60"), owner)).rejects.toThrow(
        "the thopter image localhost/thopter-missing:nope is not on the container engine: build it from the repository root with `docker build -f thopter/Dockerfile -t localhost/thopter-missing:nope .`",
      );
      expect(await rig.leftovers()).toEqual({ containers: [], volumes: [] });
    });

    it("a container that exits at start: its code and last output, and it and its volume are removed", async () => {
      const owner = newOwner();
      await expect(
        rig.provider.create(specFor(owner.thopterId, "echo 'boot failed: no nft' >&2; exit 3"), owner),
      ).rejects.toThrow(
        `the container for thopter ${owner.thopterId} did not start: it exited at once with code 3: boot failed: no nft; it and its volume were removed`,
      );
      expect(await rig.leftovers()).toEqual({ containers: [], volumes: [] });
    });

    it("a daemon that is down: start it, or point DOCKER_HOST at it", async () => {
      const down = new DockerProvider({
        ...rig.settings,
        docker: new Docker({ socketPath: "/nonexistent/docker.sock" }),
        dockerHost: "unix:///nonexistent/docker.sock",
      });
      const owner = newOwner();
      await expect(down.create(specFor(owner.thopterId, "sleep 60"), owner)).rejects.toThrow(
        /^the container engine at unix:\/\/\/nonexistent\/docker.sock is not answering \(ENOENT\): start it \(`systemctl start docker`, or `podman system service --time=0` for Podman\)/,
      );
    });

    it("the agent's fork flood stops at the process limit; CPU and memory limits are set", async () => {
      const limited = new DockerProvider({ ...rig.settings, pidsLimit: 64, memoryMb: 600, cpus: 0.5 });
      const owner = newOwner();
      const ref = await limited.create(specFor(owner.thopterId, "exec sleep 600"), owner);
      try {
        const { output } = execIn(ref.id, "thopter", ["node", "-e", FLOOD]);
        const { ok, failed } = JSON.parse(output) as { ok: number; failed: number };
        expect(ok).toBeLessThan(64);
        expect(failed).toBeGreaterThan(100);
        const { HostConfig } = await rig.docker.getContainer(ref.id).inspect();
        expect(HostConfig).toMatchObject({ PidsLimit: 64, Memory: 600 * 1024 * 1024, NanoCpus: 500_000_000 });
      } finally {
        await limited.destroy(ref);
      }
      expect(await rig.leftovers()).toEqual({ containers: [], volumes: [] });
    });

    it("a leftover volume of a create that died before its container is removed once old enough", async () => {
      const owner = newOwner();
      await rig.docker.createVolume({
        Name: `thopter-${rig.hubId}-${owner.thopterId}`,
        Labels: { thopter: "1", "thopter.hub": rig.hubId, "thopter.id": owner.thopterId },
      });
      expect(await rig.provider.removeLeftovers(60_000)).toEqual([]); // too young: its create may be under way
      expect(await rig.provider.removeLeftovers(-1)).toEqual([`thopter-${rig.hubId}-${owner.thopterId}`]);
      expect(await rig.leftovers()).toEqual({ containers: [], volumes: [] });
    });
  },
);
