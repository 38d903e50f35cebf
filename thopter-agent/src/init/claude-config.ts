import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { mcpServerEntry } from "@thopter/broker-mcp/agent-wiring";
import { SERVER_NAME } from "@thopter/broker-mcp/server";
import { HOOK_EVENTS } from "../observer/hook-events.js";

type Json = Record<string, unknown>;

export interface ClaudeConfigInput {
  home: string;
  /** Claude's working directory: trusted up front. */
  repoDir: string;
  mcp: { url: string; key: string };
  /** ANTHROPIC_API_KEY from agent.env, if any: approved so its dialog does not wait. */
  apiKey?: string;
  hookCommand: string;
}

function readJson(path: string): Json {
  if (!existsSync(path)) return {};
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
  } catch (err) {
    throw new Error(`${path} is not JSON (${(err as Error).message}): fix or remove it`);
  }
}

function writeJson(path: string, value: Json): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

const obj = (value: unknown): Json =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};

/**
 * `~/.claude.json`, merged into what is there (a logged-in home keeps its account): onboarding done, the API key
 * approved, the repository trusted, and the broker as the user-scope MCP server `thopter`. Each of these would
 * otherwise stop an unattended start at a dialog (see the checks in test/helpers/claude.ts).
 */
export function writeGlobalConfig(input: ClaudeConfigInput): void {
  const path = join(input.home, ".claude.json");
  const config = readJson(path);
  const approved = new Set<string>((obj(config.customApiKeyResponses).approved as string[] | undefined) ?? []);
  if (input.apiKey) approved.add(input.apiKey.trim().slice(-20));
  const trusted = realpathSync(input.repoDir);
  const projects = obj(config.projects);
  writeJson(path, {
    ...config,
    hasCompletedOnboarding: true,
    customApiKeyResponses: { rejected: [], ...obj(config.customApiKeyResponses), approved: [...approved] },
    projects: { ...projects, [trusted]: { ...obj(projects[trusted]), hasTrustDialogAccepted: true } },
    mcpServers: { ...obj(config.mcpServers), [SERVER_NAME]: mcpServerEntry(input.mcp.url, input.mcp.key) },
  });
}

/** Marks our own hook entries, so a re-run replaces them and leaves a human's hooks alone. */
const OURS = "observer/hook";

/**
 * `~/.claude/settings.json`, merged: no bypass-permissions warning, and a command hook (SessionStart takes only
 * those) running the observer's `hook` entry on every lifecycle event.
 */
export function writeSettings(input: ClaudeConfigInput): void {
  const path = join(input.home, ".claude", "settings.json");
  const settings = readJson(path);
  const hooks = obj(settings.hooks);
  for (const event of HOOK_EVENTS) {
    const theirs = ((hooks[event] as Json[] | undefined) ?? []).filter(
      (group) => !JSON.stringify(group).includes(OURS),
    );
    hooks[event] = [...theirs, { matcher: "*", hooks: [{ type: "command", command: input.hookCommand, timeout: 10 }] }];
  }
  writeJson(path, { ...settings, skipDangerousModePermissionPrompt: true, hooks });
}
