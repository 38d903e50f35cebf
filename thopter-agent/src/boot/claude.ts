import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { parse as parseDotenv } from "dotenv";
import { findAgentFiles } from "../agent-files/index.js";
import { agentBaseEnv, asAgent } from "./agent-process.js";
import type { AgentUser } from "./agent-user.js";
import { shellQuote } from "./node-command.js";

const run = promisify(execFile);

/** The tmux session humans attach to: `tmux attach -t thopter`. */
export const TMUX_SESSION = "thopter";

/** CLAUDE_BIN if set, else the pinned Claude Code this package depends on, else `claude` on PATH. */
export function claudeBinary(env: NodeJS.ProcessEnv): string {
  if (env.CLAUDE_BIN) return env.CLAUDE_BIN;
  try {
    const pkg = createRequire(import.meta.url).resolve("@anthropic-ai/claude-code/package.json");
    const bin = join(dirname(pkg), "bin", "claude.exe");
    if (existsSync(bin)) return bin;
  } catch {
    // not installed beside us: the image puts claude on PATH
  }
  return "claude";
}

/** Where the tmux server of `uid` listens when TMUX_TMPDIR is `tmuxDir`. */
export function tmuxSocket(tmuxDir: string, uid: number): string {
  return join(tmuxDir, `tmux-${uid}`, "default");
}

/** Where Claude Code keeps the transcripts of sessions run in `cwd`: non-alphanumerics of the path become `-`. */
export function projectsDir(home: string, cwd: string): string {
  return join(home, ".claude", "projects", cwd.replace(/[^A-Za-z0-9]/g, "-"));
}

/** Whether Claude already ran in `cwd` (a restarted machine): then it resumes rather than starting over. */
export async function hasEarlierSession(home: string, cwd: string): Promise<boolean> {
  // The agent's folder: looked at without following its links.
  return (await findAgentFiles(projectsDir(home, cwd), ".jsonl")).length > 0;
}

export interface ClaudeLaunch {
  agent: AgentUser;
  home: string;
  repoDir: string;
  promptFile: string;
  /** The hub's agent.env contents (KEY=value lines): Claude's model key and endpoint, and whatever else it needs. */
  agentEnv: string;
  /** The model proxy's address and placeholder: they replace whatever agent.env says of the model. */
  modelEnv: Record<string, string>;
  tmuxDir: string;
  claudeBin: string;
  /** Boot's environment, for the agent's base environment (PATH, THOPTER_FS_ROOT, THOPTER_ID). */
  bootEnv: NodeJS.ProcessEnv;
}

/** The shell line the pane runs: Claude on the prompt (or resuming), then a login shell once it exits. */
export function paneCommand(launch: Pick<ClaudeLaunch, "claudeBin" | "promptFile">, resume: boolean): string {
  const claude = [shellQuote(launch.claudeBin), "--dangerously-skip-permissions"];
  claude.push(resume ? "--continue" : `"$(cat ${shellQuote(launch.promptFile)})"`);
  return `${claude.join(" ")}; exec bash -l`;
}

/**
 * Starts `claude --dangerously-skip-permissions "$(cat prompt.md)"` in the tmux session `thopter`, as the agent, in
 * the repository, with agent.env in its environment. On a restarted machine with an earlier session, Claude resumes
 * it (`--continue`) instead of starting over; a session already running is left alone. Returns the tmux socket.
 */
export async function startClaudeInTmux(launch: ClaudeLaunch): Promise<{ socket: string; started: boolean }> {
  const env = {
    ...agentBaseEnv(launch.agent, launch.home, launch.bootEnv),
    ...parseDotenv(launch.agentEnv),
    ...launch.modelEnv,
    TMUX_TMPDIR: launch.tmuxDir,
  };
  const socket = tmuxSocket(launch.tmuxDir, launch.agent.uid);
  const { uid, gid } = asAgent(launch.agent, env);
  // TMUX_TMPDIR, not -S: tmux makes its socket directory only for the former (and fails silently without it).
  const tmux = (args: string[]) => run("tmux", args, { env, uid, gid, timeout: 30_000 });
  const running = await tmux(["has-session", "-t", `=${TMUX_SESSION}`]).then(
    () => true,
    () => false,
  );
  if (running) return { socket, started: false };
  const command = paneCommand(launch, await hasEarlierSession(launch.home, launch.repoDir));
  await tmux(["new-session", "-d", "-s", TMUX_SESSION, "-x", "200", "-y", "50", "-c", launch.repoDir, command]);
  return { socket, started: true };
}
