import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const CHECK = resolve(import.meta.dirname, "../../scripts/check-system.mjs");
const run = promisify(execFile);

/** check-system (`script`) as `pnpm demo` runs it first, with `path` as PATH and node's `flags`: exit code, stderr lines. */
async function check(path: string, flags: string[] = [], script = CHECK): Promise<{ code: number; lines: string[] }> {
  const outcome = await run(process.execPath, [...flags, script, "demo"], { env: { PATH: path } }).then(
    ({ stderr }) => ({ code: 0, stderr }),
    (err: { code: number; stderr: string }) => err,
  );
  return { code: outcome.code, lines: outcome.stderr.split("\n").filter(Boolean) };
}

describe("pnpm demo on a machine that lacks something", () => {
  let bin: string;
  beforeEach(async () => {
    // A PATH with a shell and nothing else: no git, no tmux.
    bin = await mkdtemp(join(tmpdir(), "demo-system-"));
    await symlink("/bin/sh", join(bin, "sh"));
  });
  afterEach(() => rm(bin, { recursive: true, force: true }));

  it("says nothing and goes on when Node, git and tmux are there", async () => {
    expect(await check(process.env.PATH ?? "/usr/bin:/bin")).toEqual({ code: 0, lines: [] });
  });

  it("names each missing program in one line, with the package to install, and stops", async () => {
    expect(await check(bin)).toEqual({
      code: 1,
      lines: [
        "Missing system program 'git': install it (Debian/Ubuntu: sudo apt-get install git) and run 'pnpm demo' again.",
        "Missing system program 'tmux': install it (Debian/Ubuntu: sudo apt-get install tmux) and run 'pnpm demo' again.",
      ],
    });
  });

  it("in a fresh clone without node_modules, says to run pnpm install first", async () => {
    const clone = join(bin, "clone");
    await mkdir(join(clone, "scripts"), { recursive: true });
    await copyFile(CHECK, join(clone, "scripts/check-system.mjs"));
    expect(await check(process.env.PATH ?? "/usr/bin:/bin", [], join(clone, "scripts/check-system.mjs"))).toEqual({
      code: 1,
      lines: ["The project's dependencies are not installed (no node_modules): run 'pnpm install', then 'pnpm demo'."],
    });
  });

  it("names a Node.js that is too old, with the version it found", async () => {
    const node18 = `data:text/javascript,Object.defineProperty(process, "versions", { value: { ...process.versions, node: "18.20.4" } })`;
    expect(await check(process.env.PATH ?? "/usr/bin:/bin", ["--import", node18])).toEqual({
      code: 1,
      lines: ["Node.js 18.20.4 is too old: install Node.js >= 20.19 (https://nodejs.org) and run 'pnpm demo' again."],
    });
  });
});
