import { join } from "node:path";
import type { IssueSnapshot, WorkspacePlan } from "../init/plan.js";
import type { AgentUser } from "./agent-user.js";
import type { RunningBroker } from "./broker.js";
import { projectsDir, TMUX_SESSION, tmuxSocket } from "./claude.js";
import type { ThopterJob } from "./job.js";
import type { LayoutPaths } from "./layout.js";
import { machinePath } from "./machine-path.js";
import { nodeCommand, ownScript, shellQuote } from "./node-command.js";

export interface PlanInput {
  job: ThopterJob;
  layout: LayoutPaths;
  agent: AgentUser;
  repoDir: string;
  broker: RunningBroker;
  issue: IssueSnapshot;
  /** The model proxy's address and placeholder for Claude (empty without a proxy). */
  modelEnv: Record<string, string>;
}

/** What the agent's side of boot is told: host paths, the issue, the broker's address and key, the observer's config. */
export function workspacePlan({ job, layout, agent, repoDir, broker, issue, modelEnv }: PlanInput): WorkspacePlan {
  const observerConfigPath = join(layout.home, ".thopter", "observer.json");
  return {
    home: layout.home,
    workspace: layout.workspace,
    repoDir,
    mirror: layout.mirror,
    workBranch: job.workBranch,
    gitUser: job.agentUser,
    issue,
    promptFile: machinePath(job.files.prompt, layout.fsRoot),
    agentEnvFile: machinePath(job.files.agentEnv, layout.fsRoot),
    ...(job.profileHome ? { profileHome: machinePath(job.profileHome, layout.fsRoot) } : {}),
    mcp: { url: broker.url, key: broker.mcpKey },
    modelEnv,
    hookCommand: [...nodeCommand(ownScript("observer/hook")), observerConfigPath].map(shellQuote).join(" "),
    observer: {
      thopterId: job.thopterId,
      collectorUrl: job.collectorUrl,
      statusTokenFile: machinePath(job.files.statusToken, layout.fsRoot),
      stateDir: join(layout.home, ".thopter", "status"),
      transcriptsDir: projectsDir(layout.home, repoDir),
      tmuxSocket: tmuxSocket(layout.tmuxDir, agent.uid),
      session: TMUX_SESSION,
      heartbeatMs: (job.heartbeatSeconds ?? 30) * 1_000,
      usageReportMs: 5_000,
      fallbackAfterMs: 120_000,
      postTimeoutMs: 2_000,
    },
    observerConfigPath,
  };
}
