import { spawn } from "node:child_process";
import { chmodSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { assertNoProcessesMentioning, processesMentioning } from "../../helpers/leftovers.js";
import { tempDir } from "../../helpers/tmp.js";
import { AGENT_USER } from "../../setup/global.js";

const isRoot = process.getuid?.() === 0;

/** A detached process in its own session, as a thopter's are, that outlives its parent's interest in it. */
function detached(command: string[], options: { cwd: string; env?: Record<string, string> }): void {
  const child = spawn(command[0]!, command.slice(1), {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...options.env },
    detached: true,
    stdio: "ignore",
  });
  child.unref();
}

/** Kills what this test started: every process mentioning its own fresh folder (setsid forks away from the group). */
function killAll(dir: string): void {
  for (const { pid } of processesMentioning(dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
}

describe("the leak check harnesses and benches end with", () => {
  it("finds a detached process by its working directory or its environment, and names it", async () => {
    const dir = tempDir("leftovers-");
    detached(["setsid", "sleep", "300"], { cwd: dir });
    detached(["sleep", "301"], { cwd: "/", env: { THOPTER_FS_ROOT: `${dir}/machines/t1/root` } });
    try {
      await expect.poll(() => processesMentioning(dir).length).toBeGreaterThanOrEqual(2);
      await expect(assertNoProcessesMentioning(dir, 200)).rejects.toThrow(/sleep 30[01]/);
    } finally {
      killAll(dir);
    }
    await assertNoProcessesMentioning(dir);
  });

  it.skipIf(!isRoot)("finds one the agent user started in its own session", async () => {
    const dir = tempDir("leftovers-agent-");
    chmodSync(dir, 0o755);
    detached(["runuser", "-u", AGENT_USER, "--", "setsid", "sleep", "302"], { cwd: dir });
    try {
      await expect.poll(() => processesMentioning(dir).map((p) => p.command)).toContain("sleep 302");
    } finally {
      killAll(dir);
    }
    await assertNoProcessesMentioning(dir);
  });
});
