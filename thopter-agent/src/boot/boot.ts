import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, openSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { redactSecrets, type StatusReport } from "@thopter/protocol";
import type { Logger } from "pino";
import type { RunningServer } from "../access/server.js";
import { applyFirewall } from "../firewall/apply.js";
import { SKIP_VALUE, SKIP_VARIABLE, SKIPPED_WARNING, skipRequested } from "../firewall/config.js";
import type { LogShipper } from "../log-shipper/index.js";
import { postStatus } from "../observer/post.js";
import { agentBaseEnv, asAgent } from "./agent-process.js";
import { type AgentUser, agentUidIfAny, agentUser, ISOLATION_OFF_WARNING } from "./agent-user.js";
import { step } from "./boot-log.js";
import { defaultBranch, type RunningBroker, startBrokerProcess, writeBrokerConfig } from "./broker.js";
import { claudeBinary, startClaudeInTmux } from "./claude.js";
import { fetchIssue, issueFromJob } from "./issue.js";
import { readJob, type ThopterJob } from "./job.js";
import type { LayoutPaths } from "./layout.js";
import { failedLingerMs, lingerServing } from "./linger.js";
import { startLogStream } from "./log-stream.js";
import { machinePath } from "./machine-path.js";
import { modelEnv, type RunningModelProxy, startModelProxy } from "./model-proxy.js";
import { nodeCommand, ownScript } from "./node-command.js";
import { workspacePlan } from "./plan.js";
import { readSpecFile } from "./read-file.js";
import { startSessionLog, startTerminal } from "./web.js";
import { runAgentInit } from "./workspace.js";

/** What boot leaves running: the machine lives as long as they do. */
export interface Booted {
  broker: RunningBroker;
  /** Holds the model credential; absent when the spec brought none. */
  modelProxy?: RunningModelProxy;
  observer: ChildProcess;
  /** Starts another observer process (after the first one died). */
  startObserver(): ChildProcess;
  agent: AgentUser;
  tmuxSocket: string;
  /** The session log and the web terminal, when the job gave an access key. */
  web: RunningServer[];
  /** Streams the boot log and transcripts to the hub; `stop()` sends what is left. */
  logs: LogShipper;
}

export interface BootContext {
  layout: LayoutPaths;
  log: Logger;
  env: NodeJS.ProcessEnv;
}

const secretFile = (path: string) => readSpecFile(path).trim();

/** Posts one boot report with the status token; boot goes on whatever the hub says (it must not hang on it). */
function statusSender(
  job: ThopterJob,
  fsRoot: string,
  log: Logger,
): (report: Omit<StatusReport, "at">) => Promise<void> {
  const tokenFile = machinePath(job.files.statusToken, fsRoot);
  return async (report) => {
    let token: string;
    try {
      token = secretFile(tokenFile);
    } catch (err) {
      log.warn({ tokenFile, err: (err as Error).message }, "no status token: the hub cannot be told");
      return;
    }
    const outcome = await postStatus(
      { collectorUrl: job.collectorUrl, token, timeoutMs: 5_000 },
      { ...report, at: new Date().toISOString() },
    );
    log.info({ state: report.state, event: report.event, outcome }, "status reported to the hub");
  };
}

/**
 * The thopter's boot, from the spec alone, as root: the session log (which serves the boot log), firewall, broker
 * (which clones the mirror), then as the agent the workspace and Claude's config, Claude in tmux, the web terminal and
 * the observer. (Not as root only with THOPTER_ISOLATION=off: the agent is then boot's own user, and the boot log and
 * the hub are told that isolation is off.) Each step is logged with its timing; a failed step is reported to the hub
 * as `failed` with the step and why, then thrown once the boot log has been served a while longer
 * (THOPTER_FAILED_LINGER_SECONDS, when the job gave an access key).
 */
export async function boot({ layout, log, env }: BootContext): Promise<Booted> {
  const started = performance.now();
  const jobPath = machinePath(env.THOPTER_CONFIG || "/etc/thopter/thopter.json", layout.fsRoot);
  const job = await step(log, "job", () => readJob(jobPath));
  const report = statusSender(job, layout.fsRoot, log);
  const repoDir = join(layout.workspace, basename(job.repo));
  const logs = startLogStream({ job, layout, repoDir, log, agentUid: agentUidIfAny(env) });
  const secrets: string[] = [];
  const known = () => secrets;
  await report({ state: "booting", event: "boot" });
  const children: ChildProcess[] = [];
  let sessionLog: RunningServer | undefined;
  let lingerMs = 0;
  try {
    // First, before anything that can fail or take long: the boot log can be read all through boot and after a failure.
    sessionLog = await step(log, "session-log", () => {
      lingerMs = failedLingerMs(env);
      return startSessionLog({ job, layout, repoDir, log, agentUid: agentUidIfAny(env) });
    });
    const agent = await step(log, "agent-user", () => agentUser(env));
    log.info({ agent: agent.name, uid: agent.uid, drop: agent.drop }, "the agent runs as this user");
    if (!agent.drop) {
      log.warn(ISOLATION_OFF_WARNING);
      await report({ state: "booting", event: "isolation", detail: ISOLATION_OFF_WARNING });
    }
    const firewall = await step(log, "firewall", () => applyBootFirewall(env, jobPath, log), known);
    if (firewall !== "enforced") {
      await report({
        state: "booting",
        event: "firewall",
        detail: firewall === "local" ? LOCAL_NO_FIREWALL : SKIPPED_WARNING,
      });
    }

    const coderToken = await step(log, "secrets", () => {
      const token = secretFile(machinePath(job.files.coderToken, layout.fsRoot));
      secrets.push(token, secretFile(machinePath(job.files.reportToken, layout.fsRoot)));
      return token;
    });
    const branch = await step(log, "default-branch", () => defaultBranch(job, coderToken), known);
    const broker = await step(
      log,
      "broker",
      async () => {
        const config = writeBrokerConfig({ job, layout, agent, repoDir, defaultBranch: branch });
        secrets.push(config.mcpKey);
        mkdirSync(layout.logDir, { recursive: true, mode: 0o755 });
        return startBrokerProcess(layout.brokerConfig, config.mcpKey, layout.brokerLog, env);
      },
      known,
    );
    children.push(broker.child);
    const modelProxy = await step(log, "model-proxy", () => startModelProxy({ job, layout, agent, env, log }), known);
    if (modelProxy) children.push(modelProxy.child);
    const claudeEnv = modelProxy ? modelEnv(modelProxy) : {};
    const issue = await step(log, "get-issue", () =>
      fetchIssue(broker.url, broker.mcpKey).catch((err: Error) => {
        log.warn({ err: err.message }, "get_issue failed: the workspace gets the issue from the job file");
        return issueFromJob(job);
      }),
    );

    await step(log, "home", () => makeHome(layout.home, agent));
    const plan = workspacePlan({ job, layout, agent, repoDir, broker, issue, modelEnv: claudeEnv });
    await step(log, "workspace", () => runAgentInit(plan, agent, log, env), known);

    const claude = await step(
      log,
      "claude",
      async () => {
        mkdirSync(layout.tmuxDir, { recursive: true });
        chmodSync(layout.tmuxDir, 0o1777);
        const claudeBin = claudeBinary(env);
        const launched = await startClaudeInTmux({
          agent,
          home: layout.home,
          repoDir,
          promptFile: join(layout.workspace, "prompt.md"),
          agentEnv: readSpecFile(machinePath(job.files.agentEnv, layout.fsRoot)),
          modelEnv: claudeEnv,
          tmuxDir: layout.tmuxDir,
          claudeBin,
          bootEnv: env,
        });
        log.info({ claudeBin, socket: launched.socket, started: launched.started }, "claude is in tmux");
        return launched;
      },
      known,
    );
    const terminal = await step(log, "web", () =>
      startTerminal({
        job,
        agent,
        fsRoot: layout.fsRoot,
        env,
        home: layout.home,
        tmuxSocket: claude.socket,
        log,
        sessionLog,
      }),
    );
    const web = [sessionLog, terminal].filter((server) => server !== undefined);
    const spawnObserver = () => startObserver(agent, layout, plan.observerConfigPath, env);
    const observerChild = await step(log, "observer", spawnObserver);
    children.push(observerChild);
    log.info({ ms: Math.round(performance.now() - started) }, "boot done: claude runs in tmux session thopter");
    return {
      broker,
      modelProxy,
      observer: observerChild,
      startObserver: spawnObserver,
      agent,
      tmuxSocket: claude.socket,
      web,
      logs,
    };
  } catch (err) {
    for (const child of children) child.kill("SIGTERM");
    const detail = redactSecrets((err as Error).message, secrets).slice(0, 2_000);
    await report({ state: "failed", event: "boot", detail });
    if (sessionLog) await lingerServing(sessionLog, lingerMs, log);
    await logs.stop();
    throw err;
  }
}

/** Why a local thopter has no firewall: rules in its network namespace would be the host's own. */
export const LOCAL_NO_FIREWALL =
  "no egress firewall: this local thopter shares the host's network (THOPTER_FS_ROOT is set); use the Fly provider for a firewalled one";

async function applyBootFirewall(
  env: NodeJS.ProcessEnv,
  jobPath: string,
  log: Logger,
): Promise<"enforced" | "skipped" | "local"> {
  if (env.THOPTER_FS_ROOT) {
    log.warn(LOCAL_NO_FIREWALL);
    return "local";
  }
  if (process.getuid?.() !== 0 && !skipRequested(env)) {
    throw new Error(
      `the firewall needs root and boot runs as uid ${process.getuid?.()}: run the hub as root, or set ${SKIP_VARIABLE}=${SKIP_VALUE} to boot without it`,
    );
  }
  const result = await applyFirewall({
    env: { ...env, THOPTER_CONFIG: jobPath },
    log: log.child({ step: "firewall" }),
  });
  return result.status;
}

/**
 * The agent's home on the volume: made once, given to the agent, closed to every other user (other thopters' agents
 * included: its MCP key and credentials are in it); what is in it is never touched here. The folder above is root's,
 * so the agent cannot put a link in its place; lchown and the check keep root from following one even so (a volume
 * restored from elsewhere).
 */
function makeHome(home: string, agent: AgentUser): void {
  mkdirSync(dirname(home), { recursive: true, mode: 0o755 });
  if (!existsSync(home)) mkdirSync(home, { mode: 0o700 });
  if (!lstatSync(home).isDirectory()) throw new Error(`the agent's home ${home} must be a folder, not a link or file`);
  if (agent.drop) lchownSync(home, agent.uid, agent.gid);
  chmodSync(home, 0o700);
}

/** The observer process, as the agent, in the machine's process group; its output goes to its log file. */
function startObserver(
  agent: AgentUser,
  layout: LayoutPaths,
  configPath: string,
  bootEnv: NodeJS.ProcessEnv,
): ChildProcess {
  const out = openSync(layout.observerLog, "a", 0o644);
  const [command, ...args] = nodeCommand(ownScript("observer/main"));
  const child = spawn(
    command!,
    [...args, configPath],
    asAgent(agent, agentBaseEnv(agent, layout.home, bootEnv), { cwd: layout.home, stdio: ["ignore", out, out] }),
  );
  return child;
}
