import { once } from "node:events";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { type Netns, NetnsLab } from "../../helpers/netns.js";
import type { ProbeAnswer, ProbeRequest } from "./probe.js";
import type { WorldConfig } from "./world.js";

const TSX = createRequire(import.meta.url).resolve("tsx");
const tsNode = (script: string) => [
  process.execPath,
  "--conditions=thopter-source",
  "--import",
  TSX,
  resolve(import.meta.dirname, script),
];
export const FIREWALL_SH = resolve(import.meta.dirname, "../../../thopter/firewall.sh");

/**
 * The addresses of the test network. The thopter and its hub share a private link (10.231.0.0/24, fd00:231::/64);
 * "the internet" is the benchmarking and documentation ranges (198.18.0.0/15, 2001:db8::/32), which are not private,
 * so the firewall treats them as public. All of them exist only inside this run's namespaces.
 */
export const NET = {
  thopter: { v4: "10.231.0.1", v6: "fd00:231::1" },
  hub: { v4: "10.231.0.2", v6: "fd00:231::2", collectorPort: 8081, otherPort: 8082 },
  resolver: "10.231.0.53",
  /** GitHub's `git` range in the test's /meta; it also answers DNS, as a resolver the thopter must not use. */
  githubGit: { v4: "198.18.0.10", v6: "2001:db8::10" },
  /** GitHub's API (GITHUB_API_URL, and its `api` range), serving /meta over HTTP. */
  githubApi: { v4: "198.18.0.30", httpPort: 80 },
  /** ALLOWED_DOMAINS allowed.test */
  allowedName: { name: "allowed.test", v4: "198.18.0.11", v6: "2001:db8::11" },
  npm: { name: "registry.npmjs.org", v4: "198.18.0.12", v6: "2001:db8::12" },
  anthropic: { name: "api.anthropic.com", v4: "198.18.0.13", v6: "2001:db8::13" },
  /** Inside the literal CIDRs given in ALLOWED_DOMAINS. */
  literal: { v4Range: "198.18.1.0/24", v4: "198.18.1.5", v6Range: "2001:db8:1::/48", v6: "2001:db8:1::5" },
  /** Listed only under /meta `actions`, which the firewall does not open. */
  disallowed: { v4: "198.18.0.20", v6: "2001:db8::20" },
  port: 443,
} as const;

const META = {
  verifiable_password_authentication: true,
  git: [`${NET.githubGit.v4}/32`, `${NET.githubGit.v6}/128`],
  api: [`${NET.githubApi.v4}/32`],
  web: [`${NET.githubGit.v4}/32`],
  packages: [],
  actions: [`${NET.disallowed.v4}/32`, `${NET.disallowed.v6}/128`],
};

const NAMES: WorldConfig["names"] = Object.fromEntries(
  [NET.allowedName, NET.npm, NET.anthropic].map(({ name, v4, v6 }) => [name, { a: [v4], aaaa: [v6] }]),
);

/** How long a check waits: a dropped SYN or query is never answered, while an allowed one answers in milliseconds. */
const PROBE_TIMEOUT_MS = 3_000;

/** The thopter's checks, answered by probe.ts running inside its namespace. */
export class Probe {
  private nextId = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (answer: ProbeAnswer) => void; reject: (err: Error) => void }
  >();

  constructor(private readonly child: ReturnType<Netns["spawn"]>) {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const answer = JSON.parse(line) as ProbeAnswer;
      this.waiting.get(answer.id)?.resolve(answer);
      this.waiting.delete(answer.id);
    });
    // A dead probe must fail the test, never pass for "unreachable".
    child.once("exit", (code, signal) => {
      for (const { reject } of this.waiting.values()) reject(new Error(`probe.ts exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  ask(request: ProbeRequest): Promise<ProbeAnswer> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return Promise.reject(new Error("probe.ts is not running"));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, ...request })}\n`);
    });
  }

  async tcp(host: string, port: number = NET.port): Promise<boolean> {
    return (await this.ask({ op: "tcp", host, port, timeoutMs: PROBE_TIMEOUT_MS })).ok;
  }

  /** The A records of `name` from `server`, or undefined when no answer came. */
  async dns(server: string, name: string): Promise<string[] | undefined> {
    const answer = await this.ask({ op: "dns", server, name, timeoutMs: PROBE_TIMEOUT_MS });
    return answer.ok ? answer.addresses : undefined;
  }
}

export interface Lab {
  lab: NetnsLab;
  thopter: Netns;
  world: Netns;
  probe: Probe;
}

async function ready(child: ReturnType<Netns["spawn"]>, what: string): Promise<void> {
  let stderr = "";
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  const line = createInterface({ input: child.stdout! });
  const [first] = (await Promise.race([
    once(line, "line"),
    once(child, "exit").then(() => {
      throw new Error(`${what} exited before it was ready: ${stderr.trim()}`);
    }),
  ])) as [string];
  line.close();
  if (!first.includes('"ready"')) throw new Error(`${what} said ${first}`);
}

/** Two namespaces linked by a veth pair, the world's servers running, and a probe waiting in the thopter. */
export async function startLab(): Promise<Lab> {
  const lab = new NetnsLab();
  try {
    const thopter = await lab.namespace("thopter");
    const world = await lab.namespace("world");
    const worldAddresses = [
      `${NET.hub.v4}/24`,
      `${NET.resolver}/24`,
      `${NET.hub.v6}/64`,
      ...[NET.githubGit, NET.allowedName, NET.npm, NET.anthropic, NET.disallowed, NET.literal].flatMap((h) => [
        `${h.v4}/32`,
        `${h.v6}/128`,
      ]),
      `${NET.githubApi.v4}/32`,
    ];
    await lab.link(thopter, [`${NET.thopter.v4}/24`, `${NET.thopter.v6}/64`], world, worldAddresses);
    await thopter.ip("route", "add", "default", "via", NET.hub.v4);
    await thopter.ip("-6", "route", "add", "default", "via", NET.hub.v6);
    thopter.setResolvConf(`nameserver ${NET.resolver}\n`);

    const config: WorldConfig = {
      tcpPorts: [NET.port, NET.hub.collectorPort, NET.hub.otherPort],
      httpPort: NET.githubApi.httpPort,
      meta: META,
      dnsAddresses: [NET.resolver, NET.githubGit.v4],
      names: NAMES,
    };
    const worldProcess = world.spawn([...tsNode("world.ts"), JSON.stringify(config)]);
    const probeProcess = thopter.spawn(tsNode("probe.ts"));
    await Promise.all([ready(worldProcess, "world.ts"), ready(probeProcess, "probe.ts")]);
    return { lab, thopter, world, probe: new Probe(probeProcess) };
  } catch (err) {
    await lab.cleanup();
    throw err;
  }
}
