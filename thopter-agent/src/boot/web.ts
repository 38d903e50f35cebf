import type { Logger } from "pino";
import type { RunningServer } from "../access/server.js";
import { startSessionLogServer } from "../session-log/server.js";
import { startTerminalServer } from "../terminal/server.js";
import type { AgentUser } from "./agent-user.js";
import { projectsDir, TMUX_SESSION } from "./claude.js";
import type { ThopterJob } from "./job.js";
import type { LayoutPaths } from "./layout.js";
import { machinePath } from "./machine-path.js";
import { readSpecFile } from "./read-file.js";

/**
 * What both web servers share: the hub's access key (a root-only file: they run in the boot process, as root), the
 * thopter and where to listen. Undefined when the job names no key file (`access.keyFile`): no hub-issued token could
 * open them then.
 */
function accessOptions(job: ThopterJob, fsRoot: string, log: Logger) {
  const { access } = job;
  if (!access) return undefined;
  const key = readSpecFile(machinePath(access.keyFile, fsRoot)).trim();
  if (key.length < 32) throw new Error(`access key file ${access.keyFile} must hold at least 32 characters`);
  const common = { key, thopterId: job.thopterId, allowedOrigins: access.allowedOrigins, host: access.host, log };
  return { access, common };
}

export interface SessionLogInput {
  job: ThopterJob;
  layout: LayoutPaths;
  repoDir: string;
  log: Logger;
  /** Who owns the transcripts (undefined when the agent user is not there: then no file is shown). */
  agentUid: number | undefined;
}

/** A uid no file has ((uid_t)-1 is "no change" to chown): with it, every transcript is refused. */
const NO_UID = -1;

/**
 * The live session log, which also serves the boot log (`/boot-log`). It needs only the key and paths, so boot starts
 * it first: the boot log can be read while boot runs, and after a failed boot for as long as the process lingers.
 */
export async function startSessionLog({
  job,
  layout,
  repoDir,
  log,
  agentUid,
}: SessionLogInput): Promise<RunningServer | undefined> {
  const options = accessOptions(job, layout.fsRoot, log);
  if (!options) {
    log.info("no access key in the job (access.keyFile): the web terminal and session log are not started");
    return undefined;
  }
  const server = await startSessionLogServer({
    ...options.common,
    port: options.access.logPort,
    dir: projectsDir(layout.home, repoDir),
    owner: agentUid ?? NO_UID,
    within: layout.home,
    bootLog: layout.bootLog,
  });
  log.info({ sessionLog: server.url }, "session log listening: the boot log is at /boot-log");
  return server;
}

export interface TerminalInput {
  job: ThopterJob;
  agent: AgentUser;
  /** The machine's `/` on this host (the layout's `fsRoot`). */
  fsRoot: string;
  home: string;
  tmuxSocket: string;
  /** Boot's environment, for the terminal's tmux (PATH; HOME and USER without a dropped agent). */
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** The session log boot started first (none without an access key: then no terminal either). */
  sessionLog: RunningServer | undefined;
}

/** The web terminal, attached to the agent's tmux session (so started once Claude runs in it). */
export async function startTerminal(input: TerminalInput): Promise<RunningServer | undefined> {
  const { job, agent, log, sessionLog } = input;
  const options = sessionLog ? accessOptions(job, input.fsRoot, log) : undefined;
  if (!sessionLog || !options) return undefined;
  const terminal = await startTerminalServer({
    ...options.common,
    port: options.access.terminalPort,
    session: TMUX_SESSION,
    tmuxSocket: input.tmuxSocket,
    env: input.env,
    ...(agent.drop ? { runAs: { uid: agent.uid, gid: agent.gid, user: agent.name, home: input.home } } : {}),
  });
  log.info({ terminal: terminal.url, sessionLog: sessionLog.url }, "web terminal and session log listening");
  return terminal;
}
