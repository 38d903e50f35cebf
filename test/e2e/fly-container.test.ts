import { execFile } from "node:child_process";
import { createServer, type Server } from "node:net";
import { promisify } from "node:util";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorld, type World } from "../demo/world.js";
import {
  buildImages,
  CONTAINERS_CONF,
  type ContainerEngine,
  hasContainerEngine,
  startContainerEngine,
} from "../helpers/container-engine.js";
import { type ContainerNet, startContainerNet } from "../helpers/container-net.js";
import { assertNoProcessesMentioning } from "../helpers/leftovers.js";
import { FlyPeer } from "../peers/fly/index.js";
import { reactions, until } from "./harness.js";
import { runLoop } from "./loop.js";

// The Fly path with the real image: the Fly peer boots each machine as a container of THOPTER_IMAGE on podman, so
// the image's users, its entrypoint and its egress firewall are what runs.
const SKIP_REASON = "(root with podman and buildah only: CI installs them)";
const podman = promisify(execFile);
const SINK = "198.18.255.9"; // what the firewall's required names resolve to; nothing listens there

let engine: ContainerEngine;
let docker: Docker;
let net: ContainerNet;
let thopterImage: string;
const listeners: Server[] = [];

function listen(host: string): Promise<number> {
  const server = createServer((socket) => socket.end("hi\n"));
  listeners.push(server);
  return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as { port: number }).port)));
}

/** Runs a command in the machine's container (as `user`), as `podman exec` would for an operator. */
async function exec(container: string, user: string, ...command: string[]): Promise<string> {
  const { stdout } = await podman("podman", ["exec", "--user", user, container, ...command], {
    env: { ...process.env, CONTAINERS_CONF },
  });
  return stdout.trim();
}

/** A TCP connection from inside the container as the agent: `open` when greeted, else the error (2 s timeout). */
const PROBE = `const s = require("node:net").connect({ host: process.argv[1], port: +process.argv[2], timeout: 2000 });
s.on("data", () => { console.log("open"); process.exit(0); });
s.on("connect", () => setTimeout(() => { console.log("open"); process.exit(0); }, 500));
s.on("timeout", () => { console.log("timeout"); process.exit(0); });
s.on("error", (e) => { console.log(e.code); process.exit(0); });`;
const probe = (container: string, host: string, port: number) =>
  exec(container, "thopter", "node", "-e", PROBE, host, String(port));

describe.skipIf(!hasContainerEngine)(
  `/thopter on the Fly path, the machine a container of the image ${SKIP_REASON}`,
  () => {
    beforeAll(async () => {
      const started = Date.now();
      thopterImage = buildImages().thopter;
      console.info(`images ready in ${Math.round((Date.now() - started) / 1000)} s`);
      engine = await startContainerEngine();
      docker = new Docker({ socketPath: engine.socketPath });
      const sink = { a: [SINK], aaaa: [] };
      net = await startContainerNet({ "api.anthropic.com": sink, "registry.npmjs.org": sink });
    }, 30 * 60_000);
    afterAll(async () => {
      for (const server of listeners) server.close();
      await net?.close();
      await engine?.stop();
    });

    it("boots the real image, runs the loop, keeps the agent fenced in, and leaves nothing after `/thopter stop`", async () => {
      const started = Date.now();
      const fly = await FlyPeer.start({
        transitionMs: 20,
        containers: { docker, capAdd: ["NET_ADMIN"], dns: [net.dns], stopGraceMs: 5_000 },
      });
      let world: World | undefined;
      try {
        world = await startWorld({
          peerAddress: { listen: net.peers, advertise: net.peers },
          hubEnv: {
            PROVIDER: "fly",
            FLY_API_URL: fly.url,
            FLY_API_TOKEN: fly.token,
            APP_NAME: fly.app,
            THOPTER_IMAGE: thopterImage,
            THOPTER_ENTRYPOINT: "/usr/local/bin/thopter-entrypoint",
            REGION: "iad",
            HUB_HOST: net.hub,
          },
        });
        const { thopter } = await runLoop(world, { sessionLog: false }).catch(async (err) => {
          const [machine] = fly.machines();
          throw new Error(`${err.message}\nmachine console:\n${machine ? await fly.console(machine.id!) : "(none)"}`);
        });
        const [machine] = fly.machines();
        expect(thopter.machine).toMatchObject({ provider: "fly", id: machine?.id });
        const container = `fly-peer-${machine!.id}`;
        console.info(`loop done in a container in ${Math.round((Date.now() - started) / 1000)} s`);

        // The agent's processes (tmux, its shell, Claude) hold no capability, though the entrypoint had NET_ADMIN.
        // One `comm|CapEff` line per process of the agent user (short-lived ones may be gone before they are read).
        const script =
          "for p in $(pgrep -u thopter); do s=$(cat /proc/$p/status 2>/dev/null) && " +
          "echo \"$s\" | sed -n 's/^Name:[[:space:]]*//p; s/^CapEff:[[:space:]]*//p' | paste -sd '|'; done; true";
        const caps = (await exec(container, "root", "sh", "-c", script)).split("\n").map((l) => l.split("|"));
        const comms = caps.map(([comm]) => comm).join(",");
        expect(comms).toContain("tmux: server");
        expect(comms).toMatch(/(^|,)claude/);
        expect(new Set(caps.map(([, cap]) => cap))).toEqual(new Set(["0000000000000000"]));

        // As the agent: what the firewall allows answers, everything else is out of reach.
        const hubPort = Number(new URL(world.hub.url).port);
        const statusPort = Number(world.config.HUB_STATUS_PORT);
        const peerPort = Number(new URL(world.peer.url).port);
        const gateway = (await exec(container, "root", "ip", "route", "show", "default")).split(/\s+/)[2]!;
        const outsidePort = await listen(net.outside);
        const hostAnyPort = await listen("0.0.0.0");
        const hostLoopbackPort = await listen("127.0.0.1");
        // Allowed: GitHub (the peer) and the collector. Dropped by the firewall (a timeout, where without it the
        // listener would answer): the dashboard, an address on no allow-list, the host's services through the bridge.
        expect(await probe(container, net.peers, peerPort)).toBe("open");
        expect(await probe(container, net.hub, statusPort)).toBe("open");
        expect(await probe(container, net.hub, hubPort)).toBe("timeout");
        expect(await probe(container, net.outside, outsidePort)).toBe("timeout");
        expect(await probe(container, gateway, hostAnyPort)).toBe("timeout");
        expect(await probe(container, gateway, hostLoopbackPort)).toBe("timeout");
        // The container's loopback is its own: the host's loopback-only service is not there.
        expect(await probe(container, "127.0.0.1", hostLoopbackPort)).toBe("ECONNREFUSED");

        const stop = world.comment("/thopter stop");
        await until(() => reactions(world!, stop, "eyes") === 1, 20_000, "👀 on /thopter stop");
        await until(async () => (await world!.thopters())[0]?.state === "gone", 60_000, "the thopter to be gone");
        expect(fly.machines().filter((m) => m.state !== "destroyed")).toEqual([]);
        expect(fly.volumes()).toEqual([]);
        expect(await fly.leftovers()).toEqual([]);
        await assertNoProcessesMentioning(machine!.id!);
      } finally {
        await world?.close();
        await fly.close();
      }
      expect(await fly.leftovers()).toEqual([]);
      await assertNoProcessesMentioning(world.dir);
      world.peer.assertClean();
      fly.assertClean();
    }, 600_000);
  },
);
