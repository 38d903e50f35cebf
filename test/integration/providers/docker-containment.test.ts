import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { connect, createServer, type Server } from "node:net";
import { resolve } from "node:path";
import type { ThopterSpec } from "@thopter/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasContainerEngine } from "../../helpers/container-engine.js";
import {
  type DockerRig,
  hostLanAddress,
  PROBES_IN_IMAGE,
  probeImage,
  removeImage,
  startDockerRig,
  thopterTestImage,
} from "../../helpers/docker-rig.js";
import { newOwner } from "./contract.js";
import { ProbeReceiver } from "./receiver.js";

/** What test/fixtures/probe/attack.mjs reports. */
interface AttackReport {
  uid: number;
  status: Record<string, string>;
  results: Record<string, string>;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");
const TSX = createRequire(import.meta.url).resolve("tsx");
const DNS_WORLD = resolve(import.meta.dirname, "../firewall/world.ts");
/** A public-looking address (TEST-NET-2) for the names the firewall must resolve; nothing needs to answer there. */
const PUBLIC = "198.51.100.7";
/** GitHub's ranges as the firewall reads them from `GET /meta` (a saved copy: the test has no GitHub). */
const META = { git: [`${PUBLIC}/32`], api: [`${PUBLIC}/32`], web: [], packages: [] };
const OTHER_THOPTER_PORT = 7682;

/** A TCP server that greets and closes, on `host`, on a free port. */
async function listener(host: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.on("error", () => {}).end("hi\n"));
  await new Promise<void>((done) => server.listen(0, host, done));
  const address = server.address();
  return { server, port: typeof address === "object" && address ? address.port : 0 };
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port, timeout: 3000 });
    socket.once("connect", () => {
      done(true);
      socket.destroy();
    });
    socket.once("timeout", () => {
      done(false);
      socket.destroy();
    });
    socket.once("error", () => done(false));
  });
}

describe.skipIf(!hasContainerEngine)(
  "a docker thopter's agent reaches only what its firewall allows (root with podman and buildah)",
  () => {
    let rig: DockerRig;
    let image = "";
    let receiver: ProbeReceiver;
    let dns: ChildProcess | undefined;
    const servers: Server[] = [];
    let agent: AttackReport;
    let control: AttackReport;
    let targets: Record<string, { host: string; port: number }>;

    beforeAll(async () => {
      image = probeImage(thopterTestImage());
      rig = await startDockerRig(image);
      receiver = await ProbeReceiver.start("0.0.0.0", rig.gateway);
      const gateway = rig.gateway;
      // The firewall resolves api.anthropic.com, registry.npmjs.org and api.github.com through FIREWALL_RESOLVERS
      // only: a stand-in DNS server on this host answers them (the bridge's gateway is what the container reaches).
      const names = Object.fromEntries(
        ["api.anthropic.com", "registry.npmjs.org", "api.github.com"].map((n) => [n, { a: [PUBLIC], aaaa: [] }]),
      );
      const world = { tcpPorts: [], httpPort: 0, meta: META, dnsAddresses: ["0.0.0.0"], names };
      dns = spawn(process.execPath, ["--import", TSX, DNS_WORLD, JSON.stringify(world)], { stdio: "ignore" });

      const dashboard = await listener("127.0.0.1"); // the hub's dashboard stays on HUB_HOST=127.0.0.1
      const loopbackService = await listener("127.0.0.1");
      const wildcardService = await listener("0.0.0.0"); // a host service listening everywhere
      servers.push(dashboard.server, loopbackService.server, wildcardService.server);

      // Another thopter: no firewall of its own here, it is the service the agent tries and the control that
      // shows the targets are reachable from a container when no firewall stands in the way.
      const other = newOwner();
      const host = hostLanAddress(gateway);
      const controlTargets = [
        { name: "hostAddress", host, port: wildcardService.port },
        { name: "gateway", host: gateway, port: wildcardService.port },
      ];
      const otherRef = await rig.provider.create(attackSpec(other, controlTargets, { ATTACK_LISTEN: "7682" }), other);
      control = (await receiver.report(other.thopterId, 60_000)) as unknown as AttackReport;

      targets = {
        collector: { host: gateway, port: receiver.port },
        nonAllowedAddress: { host, port: wildcardService.port },
        hostServiceOnGateway: { host: gateway, port: wildcardService.port },
        dashboardOnGateway: { host: gateway, port: dashboard.port },
        dashboardOnLoopback: { host: "127.0.0.1", port: dashboard.port },
        hostLoopbackService: { host: "127.0.0.1", port: loopbackService.port },
        otherThopter: { host: otherRef.address!, port: OTHER_THOPTER_PORT },
      };
      expect(await reachable(otherRef.address!, OTHER_THOPTER_PORT), "the other thopter serves").toBe(true);

      const owner = newOwner();
      const list = Object.entries(targets).map(([name, t]) => ({ name, ...t }));
      const firewalled = [
        "/opt/thopter/thopter/firewall.sh >/dev/null",
        `exec runuser -u thopter -- node ${PROBES_IN_IMAGE}/attack.mjs`,
      ].join(" && ");
      await rig.provider.create(
        {
          ...attackSpec(owner, list, {
            COLLECTOR_URL: `http://${gateway}:${receiver.port}`,
            GITHUB_API_URL: "https://api.github.com",
            GITHUB_META_FILE: "/etc/thopter/github-meta.json",
            FIREWALL_RESOLVERS: gateway,
          }),
          entrypoint: ["/bin/sh", "-c", firewalled],
        },
        owner,
      );
      agent = (await receiver.report(owner.thopterId, 90_000)) as unknown as AttackReport;

      function attackSpec(
        o: typeof owner,
        attackTargets: Array<{ name: string; host: string; port: number }>,
        env: Record<string, string>,
      ): ThopterSpec {
        return {
          thopterId: o.thopterId,
          env: {
            ATTACK_TARGETS: JSON.stringify(attackTargets),
            ATTACK_REPORT_URL: receiver.urlFor(o.thopterId),
            ...env,
          },
          files: [
            {
              path: "/etc/thopter/github-meta.json",
              contentBase64: b64(JSON.stringify(META)),
              mode: 0o644,
              owner: "root",
            },
          ],
          entrypoint: ["node", `${PROBES_IN_IMAGE}/attack.mjs`],
        };
      }
    }, 600_000);

    afterAll(async () => {
      for (const machine of (await rig?.provider.list()) ?? []) await rig.provider.destroy(machine.ref);
      const left = await rig?.leftovers();
      await rig?.close();
      dns?.kill();
      for (const server of servers) server.close();
      await receiver?.close();
      if (image) removeImage(image);
      expect(left).toEqual({ containers: [], volumes: [] });
    }, 120_000);

    it("without a firewall, a container reaches the host's address and services (the control)", () => {
      expect(control.results).toEqual({ hostAddress: "connected", gateway: "connected" });
    });

    it("the agent reaches the collector, and nothing else: not another address, the dashboard, the host's services or another thopter", () => {
      expect(agent.uid).not.toBe(0);
      expect(agent.results.collector).toBe("connected");
      for (const name of Object.keys(targets).filter((n) => n !== "collector")) {
        expect(agent.results[name], name).not.toBe("connected");
      }
    });

    it("the agent holds no capabilities and cannot gain any (no_new_privs)", () => {
      expect(agent.status.CapEff).toBe("0000000000000000");
      expect(agent.status.CapPrm).toBe("0000000000000000");
      expect(agent.status.CapAmb).toBe("0000000000000000");
      expect(agent.status.NoNewPrivs).toBe("1");
    });
  },
);
