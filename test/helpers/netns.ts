import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Network namespaces need root (CI runs as root); tests that use them skip with this said when not. */
export const canUseNetns = process.getuid?.() === 0;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and reports how it ended instead of throwing: tests assert on failures too. */
export function run(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
) {
  return new Promise<Run>((resolve) => {
    execFile(file, args, { env: options.env, timeout: options.timeoutMs ?? 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function must(file: string, args: readonly string[]): Promise<string> {
  const result = await run(file, args);
  if (result.code !== 0) throw new Error(`${file} ${args.join(" ")} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** One network namespace: its own interfaces, routes, nftables ruleset and ports. */
export class Netns {
  constructor(
    readonly name: string,
    private readonly lab: NetnsLab,
  ) {}

  /** `ip netns exec NAME` + the command, as an argv prefix for programs that take one (nft, for instance). */
  prefix(): [string, ...string[]] {
    return ["ip", "netns", "exec", this.name];
  }

  exec(command: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Run> {
    const [file, ...args] = [...this.prefix(), ...command];
    return run(file, args, options);
  }

  /** A long-running process in the namespace; killed at cleanup. */
  spawn(command: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess {
    const [file, ...args] = [...this.prefix(), ...command];
    const child = spawn(file, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    this.lab.track(child);
    return child;
  }

  ip(...args: string[]): Promise<string> {
    return must("ip", ["-n", this.name, ...args]);
  }

  /** The resolv.conf that `ip netns exec` mounts over /etc/resolv.conf for this namespace only. */
  setResolvConf(text: string): void {
    const dir = join("/etc/netns", this.name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "resolv.conf"), text);
  }

  /** `nft -s list table …` (rules and sets without counters), or "" when the table does not exist. */
  async nftTable(table: string): Promise<string> {
    const result = await this.exec(["nft", "-s", "list", "table", ...table.split(" ")]);
    return result.code === 0 ? result.stdout : "";
  }
}

const NAME = /^thopter-test-[a-z]+-(\d+)-[0-9a-f]{6}$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Namespaces left by a test process that was killed before it could clean up (its pid is in the name). */
function removeOrphans(): void {
  const names = execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.split(" ")[0]!);
  for (const name of names) {
    const pid = NAME.exec(name)?.[1];
    if (pid && !alive(Number(pid))) deleteNamespace(name);
  }
}

function deleteNamespace(name: string): void {
  try {
    execFileSync("ip", ["netns", "delete", name], { stdio: "ignore" });
  } catch {
    // Already gone.
  }
  rmSync(join("/etc/netns", name), { recursive: true, force: true });
}

/**
 * Namespaces made for one test file, named uniquely per run (pid and random) so parallel runs never meet. Nothing leaves them:
 * they are linked only to each other by veth pairs. `cleanup()` (also run at process exit, whatever happened)
 * kills their processes and deletes them with everything in them.
 */
export class NetnsLab {
  private readonly id = `${process.pid}-${randomBytes(3).toString("hex")}`;
  private readonly spaces: Netns[] = [];
  private readonly children = new Set<ChildProcess>();
  private readonly onExit = () => this.cleanupSync();

  constructor() {
    process.once("exit", this.onExit);
    removeOrphans();
  }

  track(child: ChildProcess): void {
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
  }

  async namespace(role: string): Promise<Netns> {
    const ns = new Netns(`thopter-test-${role}-${this.id}`, this);
    await must("ip", ["netns", "add", ns.name]);
    this.spaces.push(ns);
    await ns.ip("link", "set", "lo", "up");
    return ns;
  }

  /**
   * A veth pair between two namespaces, created directly inside them (no name in the host's namespace), with
   * the given addresses (`10.231.0.1/24`, `fd00:231::1/64`…) and up. IPv6 addresses skip duplicate address
   * detection, which would otherwise keep them unusable for a second or two.
   */
  async link(a: Netns, aAddresses: readonly string[], b: Netns, bAddresses: readonly string[], dev = "veth0") {
    await must("ip", ["link", "add", dev, "netns", a.name, "type", "veth", "peer", "name", dev, "netns", b.name]);
    for (const [ns, addresses] of [
      [a, aAddresses],
      [b, bAddresses],
    ] as const) {
      for (const address of addresses) {
        await ns.ip("address", "add", address, "dev", dev, ...(address.includes(":") ? ["nodad"] : []));
      }
      await ns.ip("link", "set", dev, "up");
    }
  }

  async cleanup(): Promise<void> {
    this.cleanupSync();
    process.removeListener("exit", this.onExit);
  }

  private cleanupSync(): void {
    for (const child of this.children) child.kill("SIGKILL");
    this.children.clear();
    for (const ns of this.spaces.splice(0)) deleteNamespace(ns.name);
  }
}
