import { execFile, spawnSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, realpath, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);
const COMPILERS = ["python3", "python", "make", "g++", "gcc", "cc", "c++", "clang"];

/** The checkout's files as a fresh clone has them (tracked and new, nothing ignored: no node_modules, no dist). */
async function copyCheckout(to: string): Promise<void> {
  const { stdout } = await run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT });
  for (const file of stdout.split("\0").filter(Boolean)) {
    await mkdir(dirname(join(to, file)), { recursive: true });
    await copyFile(join(ROOT, file), join(to, file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err; // deleted in the work tree, not yet committed
    });
  }
}

describe("pnpm install on a machine without a compiler", () => {
  let work = "";
  let bin = "";
  let copy = "";
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "install-no-compiler-"));
    copy = join(work, "repo");
    bin = join(work, "bin");
    await mkdir(bin);
    // PATH holds only what an install needs: node, corepack (which runs the pinned pnpm) and a shell for scripts.
    await symlink(process.execPath, join(bin, "node"));
    const corepack = spawnSync("sh", ["-c", "command -v corepack"], { encoding: "utf8" }).stdout.trim();
    await symlink(await realpath(corepack), join(bin, "corepack"));
    await symlink("/bin/sh", join(bin, "sh"));
    await copyCheckout(copy);
  });
  afterAll(() => work && rm(work, { recursive: true, force: true }));

  it("installs from the lockfile (offline, from the store) and the web terminal's pty works", async () => {
    const env = { ...process.env, PATH: bin, COREPACK_INTEGRITY_KEYS: "0" };
    for (const tool of COMPILERS) {
      const found = spawnSync("sh", ["-c", `command -v ${tool}`], { env }).status === 0;
      expect([tool, found]).toEqual([tool, false]);
    }
    // Without the side-effects cache: a native addon built earlier on this machine must not stand in for a build.
    const args = ["pnpm", "install", "--frozen-lockfile", "--offline", "--config.side-effects-cache=false"];
    const install = await run("corepack", args, {
      cwd: copy,
      env,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((err: { stdout: string; stderr: string }) => {
      throw new Error(`pnpm install failed without a compiler:\n${err.stdout}\n${err.stderr}`);
    });
    expect(install.stdout).not.toMatch(/node-gyp|gyp info/);
    // The copy's own node-pty opens a pseudo-terminal: a program in it sees a tty and its output comes back.
    const probe = `const pty = require("@lydell/node-pty");
      const p = pty.spawn("/bin/sh", ["-c", "test -t 1 && echo tty-ok"], { cols: 80, rows: 24 });
      let out = ""; p.onData((d) => { out += d; });
      p.onExit(() => console.log(JSON.stringify({ out, from: require.resolve("@lydell/node-pty") })));`;
    const { stdout } = await run(process.execPath, ["-e", probe], { cwd: join(copy, "thopter-agent"), env });
    const result = JSON.parse(stdout) as { out: string; from: string };
    expect(result.out).toContain("tty-ok");
    expect(result.from.startsWith(`${copy}/`)).toBe(true);
  }, 300_000);
});
