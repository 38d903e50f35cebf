import type { Logger } from "pino";
import type { RunningServer } from "../access/server.js";
import { startSessionLogServer } from "../session-log/server.js";
import { startTerminalServer } from "../terminal/server.js";
import type { AgentUser } from "./agent-user.js";
import { projectsDir, TMUX_SESSION } from "./claude.js";
import type { ThopterJob } from "./job.js";
import { machinePath } from "./machine-path.js";
import { readSpecFile } from "./read-file.js";

export interface WebInput {
  job: ThopterJob;
  agent: AgentUser;
  home: string;
  repoDir: string;
  tmuxSocket: string;
  log: Logger;
}

/**
 * The web terminal (attached to the agent's tmux session) and the live session log, in the boot process (root: they
 * hold the hub's access key, a root-only file). Only when the job names that key file (`access.keyFile`): without it
 * no hub-issued token could open them, and boot says so and goes on.
 */
export async function startWebServers(input: WebInput): Promise<RunningServer[]> {
  const { job, agent, log } = input;
  if (!job.access) {
    log.info("no access key in the job (access.keyFile): the web terminal and session log are not started");
    return [];
  }
  const key = readSpecFile(machinePath(job.access.keyFile)).trim();
  if (key.length < 32) throw new Error(`access key file ${job.access.keyFile} must hold at least 32 characters`);
  const common = {
    key,
    thopterId: job.thopterId,
    allowedOrigins: job.access.allowedOrigins,
    host: job.access.host,
    log,
  };
  const terminal = await startTerminalServer({
    ...common,
    port: job.access.terminalPort,
    session: TMUX_SESSION,
    tmuxSocket: input.tmuxSocket,
    ...(agent.drop ? { runAs: { uid: agent.uid, gid: agent.gid, user: agent.name, home: input.home } } : {}),
  });
  try {
    const sessionLog = await startSessionLogServer({
      ...common,
      port: job.access.logPort,
      dir: projectsDir(input.home, input.repoDir),
    });
    log.info({ terminal: terminal.url, sessionLog: sessionLog.url }, "web terminal and session log listening");
    return [terminal, sessionLog];
  } catch (err) {
    await terminal.close();
    throw err;
  }
}
