import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ModelProxyConfigFile } from "@thopter/broker-mcp/model-proxy/config";
import { HOME_CREDENTIALS_FILE, homeLoginCredential, type ModelCredential } from "@thopter/protocol";
import type { Logger } from "pino";
import { openAgentFile, RefusedFile } from "../agent-files/index.js";
import type { AgentUser } from "./agent-user.js";
import type { ThopterJob } from "./job.js";
import type { LayoutPaths } from "./layout.js";
import { machinePath } from "./machine-path.js";
import { startRootService } from "./root-service.js";

export interface RunningModelProxy {
  url: string;
  placeholder: string;
  child: ChildProcess;
}

/** What Claude Code gets instead of the credential: the proxy's address and this thopter's placeholder. */
export function modelEnv(proxy: Pick<RunningModelProxy, "url" | "placeholder">): Record<string, string> {
  return { ANTHROPIC_BASE_URL: proxy.url, ANTHROPIC_API_KEY: proxy.placeholder };
}

function writeRootOnly(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * A logged-in home's credentials file (a golden-claude machine's volume, forked), taken out of the agent's home:
 * read as root only if it is the agent's own regular file inside the home (openAgentFile), then removed as the agent
 * (so a folder swapped for a link meanwhile can make root remove nothing of its own). Its token, if any, for the proxy.
 */
async function takeHomeLogin(home: string, agent: AgentUser): Promise<ModelCredential | undefined> {
  const path = join(home, HOME_CREDENTIALS_FILE);
  let content: string;
  try {
    const handle = await openAgentFile(path, { owner: agent.uid, within: home });
    content = await handle.readFile("utf8").finally(() => handle.close());
  } catch (err) {
    // Not there, or not a file of the agent's in its home (a planted link): nothing was read, nothing is touched.
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || err instanceof RefusedFile) return undefined;
    throw err;
  }
  try {
    execFileSync("rm", ["-f", "--", path], {
      stdio: "pipe",
      ...(agent.drop ? { uid: agent.uid, gid: agent.gid } : {}),
    });
  } catch (err) {
    const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    throw new Error(`cannot take the login ${path} out of the agent's home: ${why}`);
  }
  return homeLoginCredential(content);
}

/**
 * Where the proxy's credential is: the spec's file, else a golden-claude home's login moved to a root-only file.
 * Undefined when there is neither (Claude then has no credential at all).
 */
async function credentialFile(job: ThopterJob, layout: LayoutPaths, agent: AgentUser): Promise<string | undefined> {
  const login = await takeHomeLogin(layout.home, agent);
  const fromSpec = job.files.modelCredential && machinePath(job.files.modelCredential, layout.fsRoot);
  if (fromSpec && existsSync(fromSpec)) return fromSpec;
  if (!login) return undefined;
  writeRootOnly(layout.homeLoginCredential, JSON.stringify(login));
  return layout.homeLoginCredential;
}

/**
 * Starts the model proxy (broker-mcp's `model-proxy/main`) on a fresh root-only config: the credential file, the
 * agent's user, a fresh placeholder, the budget and prices. Undefined, logged, when there is no credential to guard.
 */
export async function startModelProxy(input: {
  job: ThopterJob;
  layout: LayoutPaths;
  agent: AgentUser;
  env: NodeJS.ProcessEnv;
  log: Logger;
}): Promise<RunningModelProxy | undefined> {
  const { job, layout, agent, log } = input;
  const credential = await credentialFile(job, layout, agent);
  if (!credential) {
    log.warn("no model credential in the spec or the home: the model proxy does not run and Claude has no credential");
    return undefined;
  }
  const config = {
    agentUser: agent.name,
    ...(agent.drop ? {} : { isolation: "off" as const }),
    credentialFile: credential,
    collectorUrl: job.collectorUrl,
    reportTokenFile: machinePath(job.files.reportToken, layout.fsRoot),
    stateDir: layout.modelProxyState,
    placeholder: `sk-ant-api03-thopter-${randomBytes(32).toString("hex")}`,
    port: 0,
    ...job.model,
  } satisfies Partial<ModelProxyConfigFile>;
  mkdirSync(layout.modelProxyState, { recursive: true, mode: 0o700 });
  chmodSync(layout.modelProxyState, 0o700);
  writeRootOnly(layout.modelProxyConfig, `${JSON.stringify(config, null, 2)}\n`);
  mkdirSync(layout.logDir, { recursive: true, mode: 0o755 });
  const started = await startRootService({
    name: "model proxy",
    entry: "@thopter/broker-mcp/model-proxy/main",
    configPath: layout.modelProxyConfig,
    logFile: layout.modelProxyLog,
    bootEnv: input.env,
  });
  return { ...started, placeholder: config.placeholder };
}
