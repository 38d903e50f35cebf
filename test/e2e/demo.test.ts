import { execFileSync, type SpawnOptions, spawn } from "node:child_process";
import { chownSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AGENT_USER, hasUser } from "../demo/world.js";
import { launchBrowser } from "../helpers/browser.js";
import { asRoot, exists, ROOT_ONLY, until } from "./harness.js";
import { followDemoLinks } from "./links.js";

const ROOT = resolve(import.meta.dirname, "../..");

/**
 * How the demo is stopped: Ctrl-C (SIGINT to the terminal's foreground process group), closing the terminal (SIGHUP to
 * that group; pnpm dies of it at once, the demo cleans up) or `kill <pid of pnpm>` (SIGTERM to pnpm alone).
 */
type Stop = { signal: "SIGINT" | "SIGHUP"; to: "group" } | { signal: "SIGTERM"; to: "process" };
const CTRL_C: Stop = { signal: "SIGINT", to: "group" };

/**
 * Runs the demo (`command`) and stops it as `stop` says, checking what the user sees on the way: the dashboard URL,
 * the scripted-model notice, the provisioning, the draft PR, the completion comment, the way to a real setup; then a
 * clean exit (0, no pnpm "Command failed", unless the terminal is gone), its working folder gone and none of its
 * processes left. `whileUp` checks more while the demo is still up. Returns everything it printed.
 */
async function runDemo(
  command: string[],
  options: SpawnOptions,
  whileUp: (out: string, dir: string) => Promise<void> = async () => {},
  stop: Stop = CTRL_C,
): Promise<string> {
  // Its own process group, so SIGINT reaches pnpm and the demo alike, as Ctrl-C in a terminal does.
  const child = spawn(command[0]!, command.slice(1), {
    ...options,
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  // Output closes when the last process holding it ends: after SIGHUP that is the demo, well after pnpm.
  const closed = new Promise<void>((r) => child.once("close", () => r()));
  /** Waits for `line` in the output; a demo that gave up or exited first fails at once, showing all it printed. */
  const waitFor = async (line: string, ms: number, ending = false) => {
    const done = () => out.includes(line);
    const gaveUp = () => out.includes("The thopter did not finish") || (!ending && child.exitCode !== null);
    await until(() => done() || gaveUp(), ms, `"${line}"`).catch((err: Error) => {
      throw new Error(`${err.message}; the demo printed:\n${out}`);
    });
    if (!done()) throw new Error(`the demo ended without "${line}"; it printed:\n${out}`);
  };
  try {
    await waitFor("completion comment posted", 100_000);
    expect(out).toMatch(/Dashboard: http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}\n/);
    expect(out).toContain("the model is SCRIPTED");
    expect(out).toMatch(/🚀 a thopter was provisioned/);
    expect(out).toMatch(/branch thopter\/\d+--\S+ pushed/);
    expect(out).toMatch(/draft PR opened: http:\/\/127\.0\.0\.1:\d+\/demo\/calculator\/pull\/\d+/);
    expect(out).toContain("✅ **Done**");
    expect(out).toContain(".env.example");
    const dir = /Working files \(store, machines\) in (\S+)/.exec(out)?.[1];
    expect(dir).toBeDefined();
    expect(await exists(dir!)).toBe(true);
    await whileUp(out, dir!);
    process.kill(stop.to === "group" ? -child.pid! : child.pid!, stop.signal);
    await waitFor("Stopped and cleaned up.", 30_000, true);
    await closed;
    // After SIGHUP no terminal is left to show an exit code (pnpm itself dies of it); the demo cleans up anyway.
    if (stop.signal !== "SIGHUP") expect(child.exitCode).toBe(0);
    expect(out).not.toContain("ELIFECYCLE");
    expect(out).not.toContain("pnpm demo failed");
    expect(await exists(dir!)).toBe(false);
    expect(await processesMentioning(dir!)).toEqual([]);
    return out;
  } finally {
    // A failed assertion still lets the demo clean up its thopters (they run in their own process groups).
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, "SIGINT");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
    }
  }
}

/** Live processes whose command line or environment names `path` (a thopter's, its tmux, Claude, the broker). */
async function processesMentioning(path: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir("/proc")).filter((name) => /^\d+$/.test(name))) {
    const read = (file: string) => readFile(`/proc/${pid}/${file}`, "utf8").catch(() => "");
    const cmdline = await read("cmdline");
    if (cmdline.includes(path) || (await read("environ")).includes(path)) {
      found.push(`${pid}: ${cmdline.replaceAll("\0", " ").slice(0, 200)}`);
    }
  }
  return found;
}

/** The one thopter machine the demo started, under its working folder. */
async function machineLogs(dir: string): Promise<string> {
  const [machine] = await readdir(join(dir, "machines"));
  return join(dir, "machines", machine!, "root/var/log/thopter");
}

describe.skipIf(!asRoot)(`pnpm demo ${ROOT_ONLY}`, () => {
  it("as root: prints the dashboard URL, reaches the completion comment, and cleans up on Ctrl-C", async () => {
    const out = await runDemo(
      ["corepack", "pnpm", "demo"],
      { env: { ...process.env, COREPACK_INTEGRITY_KEYS: "0", LOG_LEVEL: "silent" } },
      async (printed) => {
        // The printed URL logs a browser in; without its token the hub's API answers no one.
        const login = new URL(/Dashboard: (\S+)/.exec(printed)![1]!);
        expect((await fetch(`${login.origin}/api/thopters`)).status).toBe(401);
        const res = await fetch(login, { redirect: "manual" });
        expect(res.status).toBe(303);
        const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]);
        expect((await fetch(`${login.origin}/api/thopters`, { headers: { cookie: cookie.join("; ") } })).status).toBe(
          200,
        );
        await checkLinks(printed);
      },
    );
    expect(out).toContain(
      "Each thopter runs as its own user (thopter-<id>, made and deleted by the hub), the push broker as root (token isolation on).",
    );
    expect(out).not.toContain("Token isolation is OFF");
  }, 150_000);
});

describe("pnpm demo stopped with `kill` (SIGTERM to pnpm alone)", () => {
  it("cleans up as on Ctrl-C and exits 0", async () => {
    await runDemo(
      ["corepack", "pnpm", "demo"],
      { env: { ...process.env, COREPACK_INTEGRITY_KEYS: "0", LOG_LEVEL: "silent" } },
      async () => {},
      { signal: "SIGTERM", to: "process" },
    );
  }, 150_000);
});

/** Follows every link the demo printed and every dashboard link in Chromium: each opens the page a person expects. */
async function checkLinks(printed: string): Promise<void> {
  const browser = await launchBrowser();
  try {
    const visits = [...(await followDemoLinks(browser, printed)).values()];
    const at = (pattern: RegExp) => {
      const found = visits.find((v) => pattern.test(v.url));
      expect(found, `a link matching ${pattern} (visited: ${visits.map((v) => v.url).join(", ")})`).toBeDefined();
      return found!.text;
    };
    const issue = at(/\/demo\/calculator\/issues\/\d+$/);
    expect(issue).toContain("add() subtracts instead of adding");
    expect(issue).toContain("/thopter");
    expect(issue).toContain("✅ **Done**");
    expect(issue).toMatch(/👀 1/);
    expect(at(/\/demo\/calculator\/pull\/\d+$/)).toContain("+  return a + b;");
    expect(at(/\/demo\/calculator\/tree\/thopter\//)).toContain("Fix add(): add, do not subtract");
    expect(at(/\/demo\/calculator\/compare\/main\.\.\.thopter\//)).toContain("-  return a - b;");
    expect(at(/\/thopters\/[^/]+$/)).toContain("demo/calculator#");
  } finally {
    await browser.close();
  }
}

/** Who runs the demo without root: as root (CI), the `thopter` user the global setup made; as anyone else, you. */
function unprivileged(): { name: string; uid: number; gid: number } {
  if (!asRoot) return { name: userInfo().username, uid: process.getuid!(), gid: process.getgid!() };
  expect(hasUser(AGENT_USER)).toBe(true);
  const id = (flag: string) => Number(execFileSync("id", [flag, AGENT_USER], { encoding: "utf8" }));
  return { name: AGENT_USER, uid: id("-u"), gid: id("-g") };
}

describe("pnpm demo without root (as root: as the user thopter)", () => {
  let home = "";
  afterEach(() => home && rm(home, { recursive: true, force: true }));

  it("runs the whole loop as that user, saying first that token isolation is off; closing its terminal cleans up", async () => {
    const user = unprivileged();
    home = await mkdtemp(join(tmpdir(), "thopter-demo-user-"));
    chownSync(home, user.uid, user.gid);
    // What `pnpm demo` runs, as pnpm runs it (sh -c, node_modules/.bin first on PATH): the user may have no corepack
    // cache of pnpm, and fetching one is not what this test is about.
    const script = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: { demo: string } })
      .scripts.demo;
    const env = {
      PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      HOME: home,
      TMPDIR: home,
      USER: user.name,
      LOGNAME: user.name,
      LANG: "C.UTF-8",
      LOG_LEVEL: "silent",
    };
    const spawnAs = { uid: user.uid, gid: user.gid, env };
    const closeTerminal: Stop = { signal: "SIGHUP", to: "group" };
    const out = await runDemo(
      ["sh", "-c", script],
      spawnAs,
      async (printed, dir) => {
        expect(dir.startsWith(`${home}/`)).toBe(true);
        // Not root: no nftables guard on the dashboard port, and every page says so.
        const login = new URL(/Dashboard: (\S+)/.exec(printed)![1]!);
        const authorization = `Bearer ${login.searchParams.get("token")}`;
        const page = await (await fetch(`${login.origin}/`, { headers: { authorization } })).text();
        expect(page).toContain("The dashboard port is open to thopters: the hub does not run as root");
        const logs = await machineLogs(dir);
        expect(await readFile(join(logs, "boot.log"), "utf8")).toContain(
          "token isolation is OFF (THOPTER_ISOLATION=off)",
        );
        expect(await readFile(join(logs, "broker.log"), "utf8")).toMatch(
          new RegExp(`"uid":${user.uid},"agentUser":"${user.name}","msg":"token isolation is OFF`),
        );
        await checkLinks(printed);
      },
      closeTerminal,
    );
    expect(out.split("\n")[0]).toBe(
      "Token isolation is OFF: you are not root, so the agent (Claude Code) runs as you and could read the thopter's GitHub token. As root (sudo pnpm demo) each thopter runs as its own user instead.",
    );
    expect(out).toContain(`run as you, '${user.name}' (token isolation OFF: not root)`);
    // Nothing of the demo's own is left either (its environment names the home: HOME, TMPDIR).
    await expect.poll(() => processesMentioning(home), { timeout: 10_000 }).toEqual([]);
  }, 150_000);
});
