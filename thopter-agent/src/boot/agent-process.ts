import type { ChildProcess, SpawnOptions } from "node:child_process";
import type { AgentUser } from "./agent-user.js";

/**
 * spawn options that run a command as the agent with exactly `env` (nothing of root's environment). Node drops the
 * supplementary groups along with uid/gid, so the child keeps none of root's.
 */
export function asAgent(agent: AgentUser, env: Record<string, string>, extra: SpawnOptions = {}): SpawnOptions {
  return { ...extra, env, ...(agent.drop ? { uid: agent.uid, gid: agent.gid } : {}) };
}

/**
 * The environment every agent process starts from, out of boot's `env`: its PATH, and THOPTER_FS_ROOT (marking it as
 * this local machine's) and THOPTER_ID when set.
 */
export function agentBaseEnv(agent: AgentUser, home: string, env: NodeJS.ProcessEnv): Record<string, string> {
  const base: Record<string, string> = {
    HOME: home,
    USER: agent.name,
    LOGNAME: agent.name,
    PATH: env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
    SHELL: "/bin/bash",
  };
  if (env.THOPTER_FS_ROOT) base.THOPTER_FS_ROOT = env.THOPTER_FS_ROOT;
  if (env.THOPTER_ID) base.THOPTER_ID = env.THOPTER_ID;
  return base;
}

/** Resolves with the exit code; output lines go to `onLine`. */
export function runToEnd(child: ChildProcess, onLine: (line: string) => void): Promise<number> {
  let rest = "";
  const take = (chunk: Buffer) => {
    const lines = (rest + chunk.toString("utf8")).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) if (line.trim()) onLine(line);
  };
  child.stdout?.on("data", take);
  child.stderr?.on("data", take);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      if (rest.trim()) onLine(rest);
      resolve(code ?? 1);
    });
  });
}
