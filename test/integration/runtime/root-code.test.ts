import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { nodeCommand, ROOT_NODE_ENV } from "@thopter/agent/boot/node-command";
import { rootSafePath } from "@thopter/agent/boot/root-path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../helpers/tmp.js";

// Root processes the project starts run through tsx in a checkout. tsx keeps compiled modules in `$TMPDIR/tsx-<uid>`
// and runs what it finds there: the agent (the real `thopter` user) makes `tsx-0` first and fills it with modules
// that carry a payload. Each test sets TMPDIR to a sticky world-writable folder of its own (a stand-in for /tmp, so
// nothing is planted where other processes of this host look).

const REPO = fileURLToPath(new URL("../../..", import.meta.url));
const isRoot = process.getuid?.() === 0;

function asAgent(script: string): void {
  execFileSync("runuser", ["-u", "thopter", "--", "sh", "-c", script], { stdio: "pipe" });
}

interface Plant {
  /** The shared temp folder (TMPDIR) holding the agent's `tsx-0`. */
  tmp: string;
  /** Written by the payload, as whoever runs it. */
  marker: string;
}

/**
 * Compiles what `argv` loads into a scratch cache (the agent can compute the same names: they hash the sources it can
 * read), then has the agent plant those entries, each with a payload, as `<tmp>/tsx-0` before root runs anything.
 */
function plantCache(argvs: string[][]): Plant {
  const base = tempDir("thopter-rootcode-");
  chmodSync(base, 0o755);
  const marker = join(base, "marker");
  const scratch = join(base, "scratch");
  mkdirSync(scratch);
  for (const [command, ...args] of argvs) {
    spawnSync(command!, args, { cwd: REPO, env: { PATH: process.env.PATH, TMPDIR: scratch }, stdio: "ignore" });
  }
  const staged = join(base, "staged");
  mkdirSync(staged, { mode: 0o755 });
  const payload = `process.getBuiltinModule("node:fs").appendFileSync(${JSON.stringify(marker)}, "ran as uid " + process.getuid() + "\\n");`;
  const entries = readdirSync(join(scratch, "tsx-0"));
  expect(entries.length).toBeGreaterThan(10);
  for (const name of entries) {
    const text = readFileSync(join(scratch, "tsx-0", name), "utf8");
    const entry = (text.startsWith("{") ? JSON.parse(text) : undefined) as { code?: string } | undefined;
    if (typeof entry?.code !== "string") continue;
    writeFileSync(join(staged, name), JSON.stringify({ ...entry, code: `${payload}${entry.code}` }), { mode: 0o644 });
  }
  const tmp = join(base, "tmp");
  mkdirSync(tmp);
  chmodSync(tmp, 0o1777);
  asAgent(`mkdir '${tmp}/tsx-0' && cp '${staged}'/* '${tmp}/tsx-0/'`);
  return { tmp, marker };
}

/** Runs `argv` as root with `env` and TMPDIR pointing at the planted folder; its exit code. */
function runAsRoot(plant: Plant, argv: string[], env: Record<string, string> = {}): number | null {
  const [command, ...args] = argv;
  const run = spawnSync(command!, args, {
    cwd: REPO,
    env: { PATH: process.env.PATH, ...env, TMPDIR: plant.tmp },
    stdio: "pipe",
    timeout: 60_000,
  });
  return run.status;
}

/** The argv thopter/run-agent.sh runs in a checkout: node with the tsx loader on thopter-agent's `main`. */
const bootArgv = () => [
  process.execPath,
  "--conditions=thopter-source",
  "--import",
  join(REPO, "node_modules/tsx/dist/loader.mjs"),
  join(REPO, "thopter-agent/src/main.ts"),
];

describe.skipIf(!isRoot)("root runs no code from a place others can write", () => {
  it("the thopter's entrypoint (run-agent.sh) never runs a tsx cache the agent planted", () => {
    const plant = plantCache([bootArgv()]);
    const fsRoot = tempDir("thopter-rootcode-fs-");
    // The attack works on tsx as it comes: the same command with its cache on runs the payload as root.
    runAsRoot(plant, bootArgv(), { THOPTER_FS_ROOT: fsRoot });
    expect(readFileSync(plant.marker, "utf8")).toContain("ran as uid 0");
    rmSync(plant.marker);
    rmSync(join(fsRoot, "var"), { recursive: true });

    // The entrypoint itself: boot starts (and fails at its first step, for want of a job file) without it.
    expect(runAsRoot(plant, ["sh", "thopter/entrypoint.sh"], { THOPTER_FS_ROOT: fsRoot })).toBe(1);
    expect(readFileSync(join(fsRoot, "var/log/thopter/boot.log"), "utf8")).toContain('"msg":"job: failed"');
    expect(existsSync(plant.marker)).toBe(false);
  }, 120_000);

  it("the broker (root's node child) and the hub (`pnpm start`) never run it either", () => {
    const broker = nodeCommand(import.meta.resolve("@thopter/broker-mcp/main"));
    // What `pnpm start` runs, word for word (in the repository's root).
    const hub = ["node", "--conditions=thopter-source", "--import", "tsx", "hub/src/main.ts"];
    const plant = plantCache([broker, hub]);
    runAsRoot(plant, hub);
    expect(readFileSync(plant.marker, "utf8")).toContain("ran as uid 0");
    rmSync(plant.marker);

    // The broker as boot starts it (its environment from ROOT_NODE_ENV), on a missing config: it exits saying so.
    expect(runAsRoot(plant, [...broker, "/nonexistent/broker.json"], ROOT_NODE_ENV)).toBe(2);
    // `pnpm start` without configuration: the hub names the missing variable and exits.
    expect(runAsRoot(plant, ["pnpm", "--silent", "start"], { HOME: process.env.HOME ?? "/root" })).toBe(1);
    expect(existsSync(plant.marker)).toBe(false);
  }, 120_000);

  it("boot searches no PATH folder the agent could write, nor one below a folder it could write", () => {
    const base = tempDir("thopter-rootcode-path-");
    chmodSync(base, 0o755);
    const home = join(base, "home");
    mkdirSync(home);
    const id = (flag: string) => Number(execFileSync("id", [flag, "thopter"], { encoding: "utf8" }).trim());
    chownSync(home, id("-u"), id("-g"));
    const mine = join(home, "bin");
    asAgent(`mkdir '${mine}' '${mine}/inner' && ln -s /usr/bin '${mine}/link'`);
    const open = join(base, "open");
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o1777);
    const rootInOpen = join(open, "root-owned");
    mkdirSync(rootInOpen, { mode: 0o755 });
    const planted = [mine, `${mine}/inner`, `${mine}/link`, open, "relative/bin", "", join(base, "missing")];
    const { path, dropped } = rootSafePath(["/usr/bin", ...planted, rootInOpen, "/bin"].join(":"));
    // A root folder inside sticky /tmp-like one stays: nobody else can rename or empty it.
    expect(path).toBe(["/usr/bin", rootInOpen, "/bin"].join(":"));
    expect(dropped).toEqual(planted);

    // Boot as root applies it first thing, and says what it left out in the boot log.
    const fsRoot = tempDir("thopter-rootcode-fs-");
    const boot = spawnSync("sh", ["thopter/entrypoint.sh"], {
      cwd: REPO,
      env: { PATH: `${mine}:${process.env.PATH}`, THOPTER_FS_ROOT: fsRoot },
      timeout: 60_000,
    });
    expect(boot.status).toBe(1);
    const warning = readFileSync(join(fsRoot, "var/log/thopter/boot.log"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { msg?: string; dropped?: string[] })
      .find((entry) => entry.dropped);
    expect(warning).toMatchObject({
      dropped: expect.arrayContaining([mine]),
      msg: expect.stringMatching(/others could write are left out/),
    });
  }, 120_000);
});
