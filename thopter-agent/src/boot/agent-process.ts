import type { ChildProcess, SpawnOptions } from "node:child_process";
import type { AgentUser } from "./agent-user.js";

/**
 * spawn options that run a command as the agent with exactly `env` (nothing of root's environment). Node drops the
 * supplementary groups along with uid/gid, so the child keeps none of root's.
 */
export function asAgent(agent: AgentUser, env: Record<string, string>, extra: SpawnOptions = {}): SpawnOptions {
  return { ...extra, env, ...(agent.drop ? { uid: agent.uid, gid: agent.gid } : {}) };
}

/** The environment every agent process starts from; THOPTER_FS_ROOT marks it as this local machine's. */
export function agentBaseEnv(agent: AgentUser, home: string): Record<string, string> {
  const env: Record<string, string> = {
    HOME: home,
    USER: agent.name,
    LOGNAME: agent.name,
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
    SHELL: "/bin/bash",
  };
  if (process.env.THOPTER_FS_ROOT) env.THOPTER_FS_ROOT = process.env.THOPTER_FS_ROOT;
  if (process.env.THOPTER_ID) env.THOPTER_ID = process.env.THOPTER_ID;
  return env;
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
