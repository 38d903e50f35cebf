import { spawn } from "node:child_process";
import type { Writable } from "node:stream";
import type { Logger } from "pino";
import type { WorkspacePlan } from "../init/plan.js";
import { agentBaseEnv, asAgent, runToEnd } from "./agent-process.js";
import type { AgentUser } from "./agent-user.js";
import { nodeCommand, ownScript } from "./node-command.js";

/**
 * Runs the agent's side of boot (init/main) as the agent with the plan on stdin; its log lines join the boot log.
 * Rejects with the failed step's reason.
 */
export async function runAgentInit(
  plan: WorkspacePlan,
  agent: AgentUser,
  log: Logger,
  bootEnv: NodeJS.ProcessEnv,
): Promise<void> {
  const [command, ...args] = nodeCommand(ownScript("init/main"));
  const child = spawn(
    command!,
    args,
    asAgent(agent, agentBaseEnv(agent, plan.home, bootEnv), { cwd: plan.home, stdio: ["pipe", "pipe", "pipe"] }),
  );
  let failure = "";
  const code = runToEnd(child, (line) => {
    try {
      const entry = JSON.parse(line) as { level?: number; step?: string; reason?: string; msg?: string };
      log.info({ agent: entry }, entry.msg ?? "");
      if ((entry.level ?? 0) >= 50) failure = `${entry.step ?? "init"}: ${entry.reason ?? entry.msg}`;
    } catch {
      log.info({ agent: line }, "agent init output");
    }
  });
  const stdin = child.stdin as Writable;
  stdin.end(JSON.stringify(plan));
  const exit = await code;
  if (exit !== 0) throw new Error(failure || `agent init exited ${exit}`);
}
