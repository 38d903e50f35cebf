import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { AGENT_USER } from "../../setup/global.js";

const execFileAsync = promisify(execFile);

export interface AgentUser {
  uid: number;
  gid: number;
}

export function agentUser(): AgentUser {
  return {
    uid: Number(execFileSync("id", ["-u", AGENT_USER], { encoding: "utf8" })),
    gid: Number(execFileSync("id", ["-g", AGENT_USER], { encoding: "utf8" })),
  };
}

/**
 * Runs a command as the unprivileged agent, with only the environment a login shell would give it. `home` is a
 * per-test home (its .gitconfig trusts the root-owned mirror), so tests never touch the real ~thopter.
 */
export async function asAgent(
  user: AgentUser,
  home: string,
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const { stdout } = await execFileAsync(cmd, args, {
    uid: user.uid,
    gid: user.gid,
    cwd: opts.cwd ?? home,
    env: {
      HOME: home,
      PATH: "/usr/local/bin:/usr/bin:/bin",
      LANG: "C",
      USER: AGENT_USER,
      GIT_TERMINAL_PROMPT: "0",
      ...opts.env,
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}
