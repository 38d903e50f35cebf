import { execFile } from "node:child_process";
import { once } from "node:events";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { agentUser } from "@thopter/agent/boot/agent-user";
import type { ThopterJob } from "@thopter/agent/boot/job";
import { hostLayout } from "@thopter/agent/boot/layout";
import { startModelProxy } from "@thopter/agent/boot/model-proxy";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../helpers/tmp.js";
import { AGENT_USER } from "../../setup/global.js";
import { isRoot } from "./harness.js";

const run = promisify(execFile);
const log = pino({ level: "silent" });
const LOGIN = JSON.stringify({ claudeAiOauth: { accessToken: "sk-ant-oat01-golden-login", refreshToken: "r" } });

/** A machine folder with the agent's home (the agent's own, 0700) and a job naming no model credential file. */
function machine() {
  const fsRoot = tempDir("model-proxy-boot-");
  const layout = hostLayout(fsRoot);
  const agent = agentUser({ THOPTER_AGENT_USER: AGENT_USER });
  mkdirSync(join(layout.home, ".claude"), { recursive: true });
  // As on a machine: the folders above the home are root's and passable.
  for (const dir of [fsRoot, join(fsRoot, "data")]) chmodSync(dir, 0o755);
  for (const dir of [layout.home, join(layout.home, ".claude")]) chownSync(dir, agent.uid, agent.gid);
  mkdirSync(join(fsRoot, "etc/thopter/secrets"), { recursive: true });
  writeFileSync(join(fsRoot, "etc/thopter/secrets/report-token"), "report\n", { mode: 0o600 });
  const job = {
    collectorUrl: "http://127.0.0.1:9",
    files: { reportToken: "/etc/thopter/secrets/report-token", modelCredential: "/etc/thopter/secrets/none.json" },
    model: { maxCostUsd: 3 },
  } as unknown as ThopterJob;
  return { fsRoot, layout, agent, job, login: join(layout.home, ".claude/.credentials.json") };
}

describe.skipIf(!isRoot)("boot's model-proxy step (root only: the home is the real thopter user's)", () => {
  it("takes a golden claude's login out of the home and gives its token to the proxy, root-only", async () => {
    const m = machine();
    writeFileSync(m.login, LOGIN, { mode: 0o600 });
    chownSync(m.login, m.agent.uid, m.agent.gid);
    const proxy = await startModelProxy({ job: m.job, layout: m.layout, agent: m.agent, env: process.env, log });
    try {
      expect(proxy?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(existsSync(m.login)).toBe(false);
      const held = lstatSync(m.layout.homeLoginCredential);
      expect({ uid: held.uid, mode: held.mode & 0o777 }).toEqual({ uid: 0, mode: 0o600 });
      expect(JSON.parse(readFileSync(m.layout.homeLoginCredential, "utf8"))).toEqual({
        kind: "oauthToken",
        value: "sk-ant-oat01-golden-login",
      });
      const config = JSON.parse(readFileSync(m.layout.modelProxyConfig, "utf8"));
      expect(config).toMatchObject({ credentialFile: m.layout.homeLoginCredential, maxCostUsd: 3 });
      expect(lstatSync(m.layout.modelProxyConfig).mode & 0o777).toBe(0o600);
      // The agent finds the token nowhere it can read.
      const { stdout } = await run("runuser", [
        "-u",
        AGENT_USER,
        "--",
        "grep",
        "-rlsF",
        "golden-login",
        m.fsRoot,
      ]).catch((err: { stdout: string }) => err);
      expect(stdout).toBe("");
    } finally {
      proxy?.child.kill("SIGTERM");
      if (proxy) await once(proxy.child, "exit");
    }
  }, 60_000);

  it("reads and removes no root file through a link the agent planted (the login file, or its folder)", async () => {
    const m = machine();
    // A root-only file shaped like a login: the agent wants boot to read it out as the credential, or delete it.
    const rootLogin = join(m.fsRoot, "etc/thopter/secrets/root-login.json");
    writeFileSync(rootLogin, LOGIN, { mode: 0o600 });
    symlinkSync(rootLogin, m.login);
    // And a `.claude` folder swapped for a link to a root folder holding a `.credentials.json`.
    const other = machine();
    const rootDir = join(other.fsRoot, "etc/thopter/secrets");
    writeFileSync(join(rootDir, ".credentials.json"), LOGIN, { mode: 0o600 });
    await run("rm", ["-rf", join(other.layout.home, ".claude")]);
    symlinkSync(rootDir, join(other.layout.home, ".claude"));
    for (const target of [m, other]) {
      const proxy = await startModelProxy({
        job: target.job,
        layout: target.layout,
        agent: target.agent,
        env: {},
        log,
      });
      expect(proxy).toBeUndefined(); // no credential taken from a root file
      expect(existsSync(target.layout.homeLoginCredential)).toBe(false);
    }
    expect(readFileSync(rootLogin, "utf8")).toBe(LOGIN);
    expect(readFileSync(join(rootDir, ".credentials.json"), "utf8")).toBe(LOGIN);
  }, 60_000);
});
