import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ThopterRecord } from "@thopter/protocol";
import Docker from "dockerode";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ContainerEngine, hasContainerEngine, startContainerEngine } from "../../helpers/container-engine.js";
import { thopterTestImage } from "../../helpers/docker-rig.js";
import { freePort } from "../../helpers/ports.js";
import { type GithubPeer, startGithubPeer } from "../../peers/github/index.js";
import { type Child, killHard, startHubProcess } from "../hub/child.js";
import { Gate } from "../hub/gate.js";
import { BOT, CODER_TOKEN, hubEnv, ISSUES_TOKEN, REPO, until } from "../hub/harness.js";

/** Where the hub is killed: the engine call held at the gate when it dies. */
const POINTS = [
  { name: "volume made, no container yet", method: "POST", path: /\/volumes\/create(\?|$)/, hold: "response" },
  { name: "container made, not started", method: "POST", path: /\/containers\/[^/]+\/start$/, hold: "request" },
] as const;

describe.skipIf(!hasContainerEngine)("a hub killed -9 mid-provision with PROVIDER=docker (root with podman)", () => {
  let engine: ContainerEngine;
  let docker: Docker;
  let gate: Gate;
  let github: GithubPeer;
  let dir: string;
  const hubs: Child[] = [];
  const hubId = "crash-docker";
  const filters = JSON.stringify({ label: [`thopter.hub=${hubId}`] });
  const containers = async () => docker.listContainers({ all: true, filters });
  const volumes = async () => (await docker.listVolumes({ filters })).Volumes ?? [];

  beforeEach(async () => {
    const image = thopterTestImage();
    engine = await startContainerEngine(await freePort());
    docker = new Docker({ host: "127.0.0.1", port: Number(new URL(engine.dockerHost.replace("tcp:", "http:")).port) });
    gate = await Gate.start(engine.dockerHost.replace("tcp:", "http:"));
    github = await startGithubPeer();
    await github.addRepo(REPO, { issuesToken: ISSUES_TOKEN, coderToken: CODER_TOKEN, bot: { login: BOT } });
    dir = await mkdtemp(join(tmpdir(), "hub-crash-docker-"));
    const env = hubEnv(github.url, dir, {
      POLL_INTERVAL_MS: "200",
      PROVIDER: "docker",
      DOCKER_HOST: gate.url.replace("http:", "tcp:"),
      DOCKER_HUB_ID: hubId,
      THOPTER_IMAGE: image,
      // The provider's part is what is tested: a container that runs is enough, no boot.
      THOPTER_ENTRYPOINT: "sleep 600",
      LOG_LEVEL: "info",
    });
    startHub = async () => {
      const hub = startHubProcess(dir, env);
      hubs.push(hub);
      await hub.url;
      return hub;
    };
  }, 600_000);
  let startHub: () => Promise<Child>;

  afterEach(async () => {
    for (const hub of hubs.splice(0)) if (hub.process.exitCode === null) await killHard(hub);
    for (const c of await containers()) await docker.getContainer(c.Id).remove({ force: true });
    for (const v of await volumes()) await docker.getVolume(v.Name).remove();
    await gate.close();
    await engine.stop();
    await github.close();
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  for (const point of POINTS) {
    it(`${point.name}: after the restart one container runs, with one volume`, async () => {
      gate.freeze(point.method, point.path, point.hold);
      const first = await startHub();
      const issue = Number(github.createIssue(REPO, { title: "Crashy", author: "alice", association: "OWNER" }).number);
      github.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" });
      await until(() => gate.held > 0, 60_000, `the hub to reach: ${point.name}`);
      await killHard(first);
      gate.open();

      const second = await startHub();
      const token = await second.token;
      const thopters = async () =>
        (
          (await (
            await fetch(`${await second.url}/api/thopters`, { headers: { authorization: `Bearer ${token}` } })
          ).json()) as { thopters: ThopterRecord[] }
        ).thopters;
      await until(
        async () => (await containers()).some((c) => c.State === "running"),
        60_000,
        "a running container after the restart",
      );
      await until(async () => (await thopters())[0]?.state === "booting", 30_000, "the thopter to be booting");
      // Settled: the reconcile and the provision retry are done; nothing made twice, nothing left over.
      await new Promise((r) => setTimeout(r, 3000));
      expect((await containers()).map((c) => c.State)).toEqual(["running"]);
      expect(await volumes()).toHaveLength(1);
      const [thopter] = await thopters();
      expect(thopter!.machine).toMatchObject({ provider: "docker", id: (await containers())[0]!.Id });
    }, 240_000);
  }
});
