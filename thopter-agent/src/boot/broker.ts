import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { BrokerConfigFile } from "@thopter/broker-mcp";
import type { AgentUser } from "./agent-user.js";
import type { ThopterJob } from "./job.js";
import type { LayoutPaths } from "./layout.js";
import { machinePath } from "./machine-path.js";
import { nodeCommand, ROOT_NODE_ENV } from "./node-command.js";

/** How long the broker may take to clone the repository into its mirror and listen. */
const READY_TIMEOUT_MS = 10 * 60_000;

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

/**
 * Starts the broker (`broker-mcp` main) as the current user (root, unless isolation is off), waits for its
 * `{"ready":true,"url":…}` line, then sends the rest of its output to its log file. Rejects with the broker's last
 * words if it exits first.
 */
export async function startBrokerProcess(
  configPath: string,
  mcpKey: string,
  logFile: string,
  bootEnv: NodeJS.ProcessEnv,
): Promise<RunningBroker> {
  const [command, ...args] = nodeCommand(import.meta.resolve("@thopter/broker-mcp/main"));
  const child = spawn(command!, [...args, configPath], {
    env: brokerEnv(bootEnv),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = createWriteStream(logFile, { flags: "a", mode: 0o600 });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGTERM");
      reject(new Error(`the broker was not ready after ${READY_TIMEOUT_MS / 1000} s`));
    }, READY_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      output = (output + chunk.toString("utf8")).slice(-8_000);
      const ready = /\{"ready":true,"url":"([^"]+)"\}/.exec(output);
      if (ready) {
        clearTimeout(timer);
        resolve(ready[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`the broker did not start: ${err.message}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the broker exited (${code}) before it was ready: ${lastWords(output)}`));
    });
  });
  return { url, mcpKey, child };
}

/** The broker's own environment: nothing of boot's beyond what finding programs needs, and the machine marker. */
function brokerEnv(bootEnv: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {
    PATH: bootEnv.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
    ...ROOT_NODE_ENV,
  };
  if (bootEnv.THOPTER_FS_ROOT) env.THOPTER_FS_ROOT = bootEnv.THOPTER_FS_ROOT;
  return env;
}

/** The last line that says something (pino's `msg`/`err` when it is JSON). */
function lastWords(output: string): string {
  const line = output.trim().split("\n").at(-1) ?? "";
  try {
    const parsed = JSON.parse(line) as { msg?: string; err?: string };
    return [parsed.msg, parsed.err].filter(Boolean).join(": ") || line;
  } catch {
    return line || "(no output)";
  }
}
