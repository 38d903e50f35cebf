import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { AGENT_USER } from "../demo/world.js";
import { asRoot } from "./harness.js";

const ENTRYPOINT = resolve(import.meta.dirname, "../../thopter/entrypoint.sh");
const run = promisify(execFile);

/**
 * The thopter's entrypoint on a local machine whose job is valid but whose boot must stop at its first step, deciding
 * who the agent is: the output it leaves and its exit code. `as` runs it as another user (its folder is theirs).
 */
async function bootUntilAgentUser(
  fsRoot: string,
  env: Record<string, string>,
  as?: { uid: number; gid: number },
): Promise<{ code: number; out: string }> {
  const job = {
    thopterId: "t-iso",
    repo: "acme/app",
    issueNumber: 7,
    issueTitle: "x",
    workBranch: "thopter/7--t-iso",
    gc: "default",
    prompt: "default",
    // Nothing listens there: boot's reports fail quietly, which is not what this test is about.
    collectorUrl: "http://127.0.0.1:9",
    agentUser: { name: "Thopter", email: "t@example.invalid" },
    files: {
      config: "/etc/thopter/thopter.json",
      prompt: "/etc/thopter/prompt.md",
      coderToken: "/etc/thopter/coder-token",
      reportToken: "/etc/thopter/report-token",
      statusToken: "/etc/thopter/status-token",
      agentEnv: "/etc/thopter/agent.env",
    },
  };
  mkdirSync(join(fsRoot, "etc/thopter"), { recursive: true });
  writeFileSync(join(fsRoot, "etc/thopter/thopter.json"), JSON.stringify(job), { mode: 0o644 });
  if (as) execFileSync("chown", ["-R", `${as.uid}:${as.gid}`, fsRoot]);
  const base = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: fsRoot, TMPDIR: fsRoot, THOPTER_FS_ROOT: fsRoot };
  const outcome = await run(ENTRYPOINT, [], {
    env: { ...base, THOPTER_CONFIG: "/etc/thopter/thopter.json", ...env },
    cwd: fsRoot,
    timeout: 60_000,
    ...as,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr }),
  );
  return outcome;
}

/** The reason boot logged for its failed `agent-user` step. */
function agentUserFailure(out: string): string | undefined {
  for (const line of out.split("\n")) {
    try {
      const entry = JSON.parse(line) as { step?: string; reason?: string; level?: number };
      if (entry.step === "agent-user" && (entry.level ?? 0) >= 50) return entry.reason;
    } catch {
      // not a log line
    }
  }
  return undefined;
}

describe.skipIf(!asRoot)(
  "a thopter's boot never guesses its token isolation (root only: boots as root and as thopter)",
  () => {
    let fsRoot: string;
    afterEach(() => rmSync(fsRoot, { recursive: true, force: true }));

    it("as root, refuses THOPTER_ISOLATION=off, so no spec can downgrade a real thopter", async () => {
      fsRoot = mkdtempSync(join(tmpdir(), "boot-isolation-"));
      const { code, out } = await bootUntilAgentUser(fsRoot, { THOPTER_ISOLATION: "off" });
      expect(code).toBe(1);
      expect(agentUserFailure(out)).toBe(
        `THOPTER_ISOLATION=off is refused as root: a thopter booted as root always runs the agent as ${AGENT_USER}; unset it`,
      );
    });

    it("not as root, refuses to boot unless told that isolation is off, saying what to do", async () => {
      fsRoot = mkdtempSync(join(tmpdir(), "boot-isolation-"));
      const id = (flag: string) => Number(execFileSync("id", [flag, AGENT_USER], { encoding: "utf8" }));
      const user = { uid: id("-u"), gid: id("-g") };
      const { code, out } = await bootUntilAgentUser(fsRoot, {}, user);
      expect(code).toBe(1);
      expect(agentUserFailure(out)).toBe(
        `boot runs as uid ${user.uid}, not root, so it cannot keep the GitHub token from the agent: run it as root, or (a local thopter only) set THOPTER_ISOLATION=off to run the agent as this user without token isolation`,
      );
    });

    it("refuses a THOPTER_ISOLATION it does not know", async () => {
      fsRoot = mkdtempSync(join(tmpdir(), "boot-isolation-"));
      const { code, out } = await bootUntilAgentUser(fsRoot, { THOPTER_ISOLATION: "partial" });
      expect(code).toBe(1);
      expect(agentUserFailure(out)).toBe('THOPTER_ISOLATION="partial" must be "full" or "off"');
    });
  },
);
