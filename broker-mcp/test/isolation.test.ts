import { execFile, execFileSync } from "node:child_process";
import { chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { type AgentIdentity, checkIsolation, parseConfigFile } from "../src/config.js";

const IS_ROOT = process.getuid?.() === 0;
const AGENT = "thopter";
const thopter: AgentIdentity = { user: AGENT, uid: 1001, gid: 1001, home: "/home/thopter" };
const run = promisify(execFile);

describe("token isolation in the broker config", () => {
  it('is "full" unless the file says "off", and nothing else is accepted', () => {
    const base = {
      repo: "acme/app",
      issueNumber: 7,
      workBranch: "thopter/7--abc",
      defaultBranch: "main",
      collectorUrl: "http://10.0.0.2:8081",
      coderTokenFile: "/etc/thopter/coder-token",
      reportTokenFile: "/etc/thopter/report-token",
      agentUser: AGENT,
      workspace: "/w",
      mirror: "/m",
      stateDir: "/s",
      mcpKey: "k".repeat(40),
    };
    expect(parseConfigFile(base).isolation).toBeUndefined();
    expect(parseConfigFile({ ...base, isolation: "off" }).isolation).toBe("off");
    expect(() => parseConfigFile({ ...base, isolation: "none" })).toThrow(/^broker config: isolation: /);
  });

  it('refuses "off" as root, so a real thopter cannot be downgraded', () => {
    expect(() => checkIsolation("off", thopter, 0)).toThrow(
      'broker config: isolation: "off" is refused as root: a root broker always keeps the token from a separate agent user; remove the setting',
    );
    expect(() => checkIsolation("off", { ...thopter, uid: 0 }, 0)).toThrow(/"off" is refused as root/);
  });

  it("as root, needs an agent user that is not root", () => {
    expect(() => checkIsolation(undefined, thopter, 0)).not.toThrow();
    expect(() => checkIsolation("full", thopter, 0)).not.toThrow();
    expect(() => checkIsolation("full", { ...thopter, user: "root", uid: 0 }, 0)).toThrow(
      "broker config: agentUser: must not be root",
    );
  });

  it("not as root, refuses isolation it cannot keep, saying what to change", () => {
    // A separate agent: the broker could neither run git as that user nor hide the token from it.
    expect(() => checkIsolation(undefined, thopter, 1000)).toThrow(
      'broker config: isolation: the broker runs as uid 1000, not root, so it can neither keep the token from thopter nor run git as that user: run it as root, or set "isolation": "off" with agentUser set to the broker\'s own user (the agent can then read the token)',
    );
    // Even its own user: isolation off must be said, never assumed.
    expect(() => checkIsolation("full", { ...thopter, uid: 1000 }, 1000)).toThrow(/runs as uid 1000, not root/);
  });

  it('not as root, with "off", accepts only its own user as the agent', () => {
    expect(() => checkIsolation("off", { ...thopter, uid: 1000 }, 1000)).not.toThrow();
    expect(() => checkIsolation("off", thopter, 1000)).toThrow(
      `broker config: agentUser: with isolation "off" the agent is the broker's own user (uid 1000), not thopter (uid 1001)`,
    );
  });
});

/** The real `broker-mcp` program, refusing a config at start: its one line on stderr, and exit code 2. */
describe.skipIf(!IS_ROOT)("broker-mcp refusing to start (root only: runs the broker as root and as thopter)", () => {
  const main = resolve(import.meta.dirname, "../src/main.ts");
  const tsx = fileURLToPath(import.meta.resolve("tsx"));
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A config and its token files in a fresh folder, all owned by `owner` with mode 0600. */
  function writeConfig(owner: { uid: number; gid: number }, patch: Record<string, unknown>): string {
    dir = mkdtempSync(join(tmpdir(), "broker-isolation-"));
    chownSync(dir, owner.uid, owner.gid);
    const files = {
      coderTokenFile: join(dir, "coder-token"),
      reportTokenFile: join(dir, "report-token"),
      config: join(dir, "broker.json"),
    };
    const config = {
      repo: "acme/app",
      issueNumber: 7,
      workBranch: "thopter/7--abc",
      defaultBranch: "main",
      githubApiUrl: "http://127.0.0.1:9",
      collectorUrl: "http://127.0.0.1:9",
      coderTokenFile: files.coderTokenFile,
      reportTokenFile: files.reportTokenFile,
      agentUser: AGENT,
      workspace: join(dir, "work"),
      mirror: join(dir, "mirror.git"),
      stateDir: join(dir, "state"),
      mcpKey: "k".repeat(40),
      ...patch,
    };
    writeFileSync(files.coderTokenFile, "ghp_coder\n", { mode: 0o600 });
    writeFileSync(files.reportTokenFile, "report\n", { mode: 0o600 });
    writeFileSync(files.config, JSON.stringify(config), { mode: 0o600 });
    for (const file of Object.values(files)) chownSync(file, owner.uid, owner.gid);
    return files.config;
  }

  async function refusal(config: string, as?: { uid: number; gid: number }): Promise<{ code: number; err: string }> {
    const args = ["--conditions=thopter-source", "--import", tsx, main, config];
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, TMPDIR: dir };
    const outcome = await run(process.execPath, args, { env, cwd: dir, timeout: 30_000, ...as }).then(
      () => ({ code: 0, stderr: "" }),
      (err: { code: number; stderr: string }) => err,
    );
    return { code: outcome.code, err: outcome.stderr.trim() };
  }

  it('as root, refuses a config with "isolation": "off"', async () => {
    const config = writeConfig({ uid: 0, gid: 0 }, { isolation: "off" });
    expect(await refusal(config)).toEqual({
      code: 2,
      err: 'broker config: isolation: "off" is refused as root: a root broker always keeps the token from a separate agent user; remove the setting',
    });
  });

  it("as an unprivileged user, refuses isolation with an agent user it cannot switch to", async () => {
    const id = (flag: string) => Number(execFileSync("id", [flag, AGENT], { encoding: "utf8" }));
    const user = { uid: id("-u"), gid: id("-g") };
    const config = writeConfig(user, { agentUser: "nobody" });
    expect(await refusal(config, user)).toEqual({
      code: 2,
      err: expect.stringMatching(
        new RegExp(
          `^broker config: isolation: the broker runs as uid ${user.uid}, not root, so it can neither keep the token from nobody nor run git as that user: run it as root, or set "isolation": "off"`,
        ),
      ),
    });
  });
});
