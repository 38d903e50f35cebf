import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { asAgent, CLAUDE_BIN, type ClaudeHome, transcriptPathFor } from "./claude.js";
import { poll } from "./poll.js";

const execFileAsync = promisify(execFile);

export interface TmuxOptions {
  prompt?: string;
  extraArgs?: string[];
  /** tmux session name (the runtime uses `thopter`). */
  session?: string;
  width?: number;
  height?: number;
}

/** An interactive CLI in a detached tmux session owned by `thopter`, on its own socket in the home's temp dir. */
export interface ClaudeTmux {
  sessionId: string;
  transcriptPath: string;
  /** `tmux send-keys` with key names (`Enter`, `Escape`, `C-c`…). */
  sendKeys(...keys: string[]): Promise<void>;
  /** Type one line as a human would, wait until the prompt shows it, then press Enter (`/exit` etc. work too). */
  type(text: string): Promise<void>;
  /** The visible pane, as text. */
  capture(): Promise<string>;
  /** Poll the pane until it matches; the error carries the last screen. */
  waitForPane(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Await `work`; if it fails, add the last screen to the error, which usually shows why (a dialog, a crash). */
  explain<T>(work: Promise<T>): Promise<T>;
  /** Kill the tmux server (and the CLI with it). */
  stop(): Promise<void>;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Wait for a process to exit; SIGKILL it if it has not within `timeoutMs`. */
async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) {
    if (!isAlive(pid)) return;
  }
  process.kill(pid, "SIGKILL");
}

/** `claude --dangerously-skip-permissions [prompt]` in tmux as `thopter`, like the thopter runtime runs it. */
export async function startClaudeInTmux(
  home: ClaudeHome,
  modelUrl: string,
  options: TmuxOptions = {},
): Promise<ClaudeTmux> {
  const sessionId = randomUUID();
  const session = options.session ?? "thopter";
  const socket = join(home.root, "tmux.sock");
  const tmux = async (...args: string[]): Promise<string> =>
    (await execFileAsync("runuser", asAgent(home, modelUrl, ["tmux", "-S", socket, ...args]))).stdout;
  const claudeArgs = ["--dangerously-skip-permissions", "--session-id", sessionId, ...(options.extraArgs ?? [])];
  if (options.prompt !== undefined) claudeArgs.push(options.prompt);
  // The tmux server inherits the client's (clean) environment; remain-on-exit keeps a crashed CLI's last screen.
  await tmux(
    "new-session",
    "-d",
    "-s",
    session,
    "-x",
    String(options.width ?? 160),
    "-y",
    String(options.height ?? 50),
    "-c",
    home.cwd,
    CLAUDE_BIN,
    ...claudeArgs,
    ";",
    "set-option",
    "-t",
    session,
    "remain-on-exit",
    "on",
    ";",
    "set-option",
    "-t",
    session,
    "focus-events",
    "on",
  );
  const capture = () => tmux("capture-pane", "-p", "-t", session);
  const waitForPane = async (pattern: RegExp, timeoutMs = 30_000): Promise<string> => {
    let screen = "";
    return poll(
      async () => {
        screen = await capture();
        return pattern.test(screen) ? screen : undefined;
      },
      timeoutMs,
      () => `tmux pane to match ${pattern}; last screen:\n${screen}`,
    );
  };
  const sendKeys = async (...keys: string[]): Promise<void> => {
    await tmux("send-keys", "-t", session, ...keys);
  };
  return {
    sessionId,
    transcriptPath: transcriptPathFor(home, sessionId),
    sendKeys,
    async type(text) {
      await tmux("send-keys", "-t", session, "-l", text);
      await waitForPane(new RegExp(`❯\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`), 10_000);
      await sendKeys("Enter");
    },
    capture,
    waitForPane,
    explain: (work) =>
      work.catch(async (error: Error) => {
        const screen = await capture().catch((captureError: Error) => `(no screen: ${captureError.message})`);
        throw new Error(`${error.message}\nlast screen:\n${screen}`, { cause: error });
      }),
    stop: async () => {
      // The CLI still writes its config while it shuts down: wait for it to exit so cleanup() removes everything.
      const pid = Number((await tmux("display-message", "-p", "-t", session, "#{pane_pid}").catch(() => "")).trim());
      await tmux("kill-server").catch(() => undefined);
      if (pid > 0) await waitForExit(pid, 5_000);
    },
  };
}
