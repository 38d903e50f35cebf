/**
 * Run the real, pinned Claude Code CLI (thopter-agent's `@anthropic-ai/claude-code`, a native binary) offline, as the
 * unprivileged `thopter` user, against the model peer (test/peers/model).
 *
 * What an unattended start needs (checked with 2.1.330; the thopter runtime writes the same files):
 * - Run as a non-root user: as root the CLI refuses `--dangerously-skip-permissions`. We use
 *   `runuser -u thopter -- env -i HOME=… PATH=… <vars> claude …` so nothing from root's environment leaks in.
 * - Environment: `ANTHROPIC_BASE_URL=<peer>`, `ANTHROPIC_API_KEY=<any>`, `DISABLE_TELEMETRY=1`,
 *   `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1` (without it: `HEAD /api/hello` and title requests, see the peer's
 *   classify.ts); interactive also `TERM` (tmux sets it).
 * - `~/.claude.json` (interactive mode only: `-p` shows none of these dialogs and starts even with an empty HOME):
 *   - `hasCompletedOnboarding: true`, else the first-run flow starts and fails on a connectivity check to
 *     api.anthropic.com ("Unable to connect to Anthropic services") and the CLI exits.
 *   - `customApiKeyResponses.approved: [<last 20 characters of ANTHROPIC_API_KEY>]`, else the
 *     "Detected a custom API key… Do you want to use this API key?" dialog waits, defaulting to No.
 *   - `projects[<realpath of cwd>].hasTrustDialogAccepted: true`, else the "Accessing workspace… trust this folder"
 *     dialog waits, defaulting to "No, exit".
 * - `~/.claude/settings.json`: `skipDangerousModePermissionPrompt: true`, else the "Bypass Permissions mode" warning
 *   waits, defaulting to "No, exit". Hooks go in the same file (`hooks`).
 * - MCP servers: `--mcp-config FILE --strict-mcp-config`, or user scope (`mcpServers` in `~/.claude.json`, what
 *   `claude mcp add -s user` writes). Both connect without an approval prompt; a project `.mcp.json` would wait.
 *   MCP tools are deferred: the model sees only their names until it loads them with ToolSearch (peer: `loadTools`).
 * - `--session-id <uuid>` fixes the session id up front, so the transcript path is known before the first turn:
 *   `~/.claude/projects/<cwd with every non-alphanumeric character as ->/<session>.jsonl`.
 * - `-p` waits 3 s for stdin unless stdin is closed: spawn it with stdin ignored.
 * - Optional: `messageIdleNotifThresholdMs` in `~/.claude.json` (default 60000) sets how long an idle prompt waits
 *   before the `Notification` hook fires with `notification_type: "idle_prompt"`.
 *
 * Hooks (`settings.hooks.<Event> = [{ matcher: "*", hooks: [{ type: "command", command } | { type: "http", url }] }]`):
 * - Interactive sessions fire SessionStart (`source: "startup"`), UserPromptSubmit (`prompt`), PreToolUse /
 *   PostToolUse (`tool_name`, `tool_input`, `tool_response`), Stop (`last_assistant_message`), Notification
 *   (`idle_prompt` once idle) and SessionEnd (`reason: "prompt_input_exit"` after `/exit`), each with `session_id`,
 *   `transcript_path` and `cwd`. `-p` fires the same minus Notification (SessionEnd `reason: "other"`).
 * - SessionStart runs only `type: "command"` hooks: an http hook configured for it is silently not called.
 * - A turn the API refuses ends with StopFailure (`error`, `last_assistant_message: "API Error: 400 …"`), not Stop;
 *   `-p` then exits 1.
 * - Command hooks run as the CLI's user (`thopter`) with the event's JSON (one line) on stdin.
 */
import { execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { AGENT_USER } from "../setup/global.js";

const execFileAsync = promisify(execFile);

/** The pinned CLI binary, resolved from thopter-agent's dependencies. */
export const CLAUDE_BIN = join(
  dirname(
    createRequire(resolve(import.meta.dirname, "../../thopter-agent/package.json")).resolve(
      "@anthropic-ai/claude-code/package.json",
    ),
  ),
  "bin/claude.exe",
);

/** These tests run the CLI as `thopter`, which needs root (CI is root). */
export const isRoot = process.getuid?.() === 0;

/** An HTTP MCP server entry, as Claude Code's config and `--mcp-config` take it. */
export interface McpHttpServer {
  type: "http";
  url: string;
  headers?: Record<string, string>;
}

export interface ClaudeHomeOptions {
  /** The working directory to trust and run in (the caller makes it usable by `thopter`); default: a fresh `work/`. */
  cwd?: string;
  apiKey?: string;
  /** Extra `~/.claude/settings.json` keys (`hooks`, `env`, …). */
  settings?: Record<string, unknown>;
  /** User-scope MCP servers (`mcpServers` in `~/.claude.json`). */
  mcpServers?: Record<string, McpHttpServer>;
  /** Extra `~/.claude.json` keys (e.g. `messageIdleNotifThresholdMs`). */
  globalConfig?: Record<string, unknown>;
}

/** A throwaway home for one CLI run, in a temp dir owned by `thopter`. */
export interface ClaudeHome {
  /** The temp dir holding everything (home, work dir, tmux socket, MCP config files). */
  root: string;
  home: string;
  cwd: string;
  apiKey: string;
  /** Merge keys into `~/.claude/settings.json` (for settings that name files in `root`, such as hook logs). */
  writeSettings(settings: Record<string, unknown>): Promise<void>;
  /** Remove the temp dir. */
  cleanup(): Promise<void>;
}

async function chownToAgent(...paths: string[]): Promise<void> {
  await execFileAsync("chown", ["-R", `${AGENT_USER}:${AGENT_USER}`, ...paths]);
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Create a home where the CLI starts unattended (see the top of this file), for `thopter`. */
export async function prepareClaudeHome(options: ClaudeHomeOptions = {}): Promise<ClaudeHome> {
  const root = await mkdtemp(join(tmpdir(), "claude-"));
  const home = join(root, "home");
  const apiKey = options.apiKey ?? `sk-ant-test-${randomUUID()}`;
  await mkdir(join(home, ".claude"), { recursive: true });
  await mkdir(join(root, "tmp"));
  const cwd = options.cwd ?? join(root, "work");
  await mkdir(cwd, { recursive: true });
  const trusted = await realpath(cwd);
  await writeJson(join(home, ".claude.json"), {
    hasCompletedOnboarding: true,
    customApiKeyResponses: { approved: [apiKey.trim().slice(-20)], rejected: [] },
    projects: { [trusted]: { hasTrustDialogAccepted: true } },
    ...(options.mcpServers ? { mcpServers: options.mcpServers } : {}),
    ...options.globalConfig,
  });
  const settingsFile = join(home, ".claude", "settings.json");
  await writeJson(settingsFile, { skipDangerousModePermissionPrompt: true, ...options.settings });
  await chownToAgent(root);
  return {
    root,
    home,
    cwd: trusted,
    apiKey,
    async writeSettings(settings) {
      const current = JSON.parse(await readFile(settingsFile, "utf8")) as Record<string, unknown>;
      await writeJson(settingsFile, { ...current, ...settings });
      await chownToAgent(settingsFile);
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** `runuser … env -i <env> claude <args>`: the CLI as `thopter`, with only the variables it needs. */
export function asAgent(home: ClaudeHome, modelUrl: string, command: string[]): string[] {
  const env = {
    HOME: home.home,
    USER: AGENT_USER,
    PATH: "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
    // The CLI keeps scratch files in $TMPDIR/claude-<uid>: keep them in this run's temp dir.
    TMPDIR: join(home.root, "tmp"),
    ANTHROPIC_BASE_URL: modelUrl,
    ANTHROPIC_API_KEY: home.apiKey,
    DISABLE_TELEMETRY: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  };
  return ["-u", AGENT_USER, "--", "env", "-i", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...command];
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `claude <args>` as `thopter` in the home's cwd and collect its output; kills it after `timeoutMs`. */
export function runClaude(
  home: ClaudeHome,
  modelUrl: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("runuser", asAgent(home, modelUrl, [CLAUDE_BIN, ...args]), {
      cwd: home.cwd,
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so a timeout kills the CLI (a child of runuser) too, not runuser alone.
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
      reject(new Error(`claude ${args[0]} ran over ${timeoutMs} ms; stderr: ${stderr.slice(-2_000)}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Write an `--mcp-config` file for these servers into the home's temp dir and return the flags that load only it. */
export async function mcpConfigFlags(home: ClaudeHome, servers: Record<string, McpHttpServer>): Promise<string[]> {
  const file = join(home.root, `mcp-${randomUUID()}.json`);
  await writeJson(file, { mcpServers: servers });
  await chownToAgent(file);
  return ["--mcp-config", file, "--strict-mcp-config"];
}

export interface HeadlessRun extends CommandResult {
  sessionId: string;
  /** Every `--output-format stream-json` event, parsed. */
  events: Array<Record<string, unknown>>;
  transcriptPath: string;
}

/** `claude -p "<prompt>" --dangerously-skip-permissions --output-format stream-json --verbose`, as `thopter`. */
export async function runClaudeHeadless(
  home: ClaudeHome,
  modelUrl: string,
  prompt: string,
  options: { extraArgs?: string[]; timeoutMs?: number } = {},
): Promise<HeadlessRun> {
  const sessionId = randomUUID();
  const args = ["-p", prompt, "--dangerously-skip-permissions", "--output-format", "stream-json", "--verbose"];
  const result = await runClaude(
    home,
    modelUrl,
    [...args, "--session-id", sessionId, ...(options.extraArgs ?? [])],
    options.timeoutMs,
  );
  const events = jsonLines(result.stdout, "claude -p stdout");
  return { ...result, sessionId, events, transcriptPath: transcriptPathFor(home, sessionId) };
}

/** Parse JSON Lines; a line that is not JSON is an error naming where it came from. */
function jsonLines(text: string, source: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, index) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`${source}: line ${index + 1} is not JSON: ${line.slice(0, 200)}`);
      }
    });
}

/** Where the CLI writes a session's transcript: the project folder is the cwd with non-alphanumerics as `-`. */
export function transcriptPathFor(home: ClaudeHome, sessionId: string): string {
  return join(home.home, ".claude", "projects", home.cwd.replace(/[^A-Za-z0-9]/g, "-"), `${sessionId}.jsonl`);
}

/** Find a session's transcript by id, whatever the project folder, and check its `cwd` field names our cwd. */
export async function findTranscript(home: ClaudeHome, sessionId: string): Promise<string> {
  const projects = join(home.home, ".claude", "projects");
  for (const folder of await readdir(projects)) {
    const path = join(projects, folder, `${sessionId}.jsonl`);
    const lines = await readTranscript(path).catch(() => undefined);
    if (lines?.some((line) => line.cwd === home.cwd)) return path;
  }
  throw new Error(`no transcript for session ${sessionId} with cwd ${home.cwd} under ${projects}`);
}

/** A transcript's lines, parsed (one JSON object a line). */
export async function readTranscript(path: string): Promise<Array<Record<string, unknown>>> {
  return jsonLines(await readFile(path, "utf8"), path);
}
