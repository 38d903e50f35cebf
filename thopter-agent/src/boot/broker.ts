import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { BrokerConfigFile } from "@thopter/broker-mcp";
import type { AgentUser } from "./agent-user.js";
import type { ThopterJob } from "./job.js";
import type { LayoutPaths } from "./layout.js";
import { machinePath } from "./machine-path.js";
import { startRootService } from "./root-service.js";

export interface RunningBroker {
  url: string;
  mcpKey: string;
  child: ChildProcess;
}

/** The repository's default branch, from the job or else from GitHub with the coder token (root only). */
export async function defaultBranch(job: ThopterJob, coderToken: string): Promise<string> {
  if (job.defaultBranch) return job.defaultBranch;
  const url = new URL(`repos/${job.repo}`, job.githubApiUrl.endsWith("/") ? job.githubApiUrl : `${job.githubApiUrl}/`);
  const res = await fetch(url, {
    headers: {
      authorization: `Bearer ${coderToken}`,
      accept: "application/vnd.github+json",
      "user-agent": "thopter-boot",
    },
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok)
    throw new Error(`GET ${url.pathname} answered ${res.status}: is the coder token allowed to read ${job.repo}?`);
  const body = (await res.json()) as { default_branch?: unknown };
  if (typeof body.default_branch !== "string") throw new Error(`GET ${url.pathname} named no default_branch`);
  return body.default_branch;
}

/** The broker's config file (its user's only), pointing at the spec's token files; a fresh MCP key every boot. */
export function writeBrokerConfig(input: {
  job: ThopterJob;
  layout: LayoutPaths;
  agent: AgentUser;
  repoDir: string;
  defaultBranch: string;
}): BrokerConfigFile {
  const { job, layout, agent } = input;
  const config = {
    repo: job.repo,
    issueNumber: job.issueNumber,
    workBranch: job.workBranch,
    defaultBranch: input.defaultBranch,
    githubApiUrl: job.githubApiUrl,
    collectorUrl: job.collectorUrl,
    coderTokenFile: machinePath(job.files.coderToken, layout.fsRoot),
    reportTokenFile: machinePath(job.files.reportToken, layout.fsRoot),
    ...(job.files.secrets ? { secretsFile: machinePath(job.files.secrets, layout.fsRoot) } : {}),
    agentUser: agent.name,
    // Boot that is not root runs the agent as itself (THOPTER_ISOLATION=off): the broker must be told, not guess.
    ...(agent.drop ? {} : { isolation: "off" as const }),
    workspace: input.repoDir,
    mirror: layout.mirror,
    stateDir: layout.brokerState,
    mcpKey: randomBytes(32).toString("hex"),
    port: 0,
  } satisfies Partial<BrokerConfigFile>;
  // The agent reads the mirror (it clones and fetches from it), so the directory above it must be passable.
  mkdirSync(layout.brokerDir, { recursive: true, mode: 0o755 });
  chmodSync(layout.brokerDir, 0o755);
  mkdirSync(dirname(layout.brokerConfig), { recursive: true, mode: 0o755 });
  writeFileSync(layout.brokerConfig, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(layout.brokerConfig, 0o600);
  return config as BrokerConfigFile;
}

/** Starts the broker (`broker-mcp` main) as the current user (root, unless isolation is off); see startRootService. */
export async function startBrokerProcess(
  configPath: string,
  mcpKey: string,
  logFile: string,
  bootEnv: NodeJS.ProcessEnv,
): Promise<RunningBroker> {
  const started = await startRootService({
    name: "broker",
    entry: "@thopter/broker-mcp/main",
    configPath,
    logFile,
    bootEnv,
  });
  return { ...started, mcpKey };
}
