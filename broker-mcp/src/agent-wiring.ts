import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { SERVER_NAME } from "./server.js";

/** Long enough for a large push (bundle, checks, upload) before Claude Code gives up on the tool call. */
export const PUSH_TIMEOUT_MS = 15 * 60_000;

export interface McpServerEntry {
  type: "http";
  url: string;
  headers: Record<string, string>;
  timeout: number;
}

/** The `mcpServers.thopter` entry: an HTTP server with the bearer key, as `--mcp-config` and `~/.claude.json` take it. */
export function mcpServerEntry(url: string, key: string): McpServerEntry {
  return { type: "http", url, headers: { Authorization: `Bearer ${key}` }, timeout: PUSH_TIMEOUT_MS };
}

/** A whole `--mcp-config` file: `{ "mcpServers": { "thopter": … } }`. */
export function mcpConfig(url: string, key: string): { mcpServers: Record<string, McpServerEntry> } {
  return { mcpServers: { [SERVER_NAME]: mcpServerEntry(url, key) } };
}

export interface AgentMcpConfigOptions {
  path: string;
  url: string;
  key: string;
  /** Owner of the file: the agent, who alone may read it (it holds the key, not any GitHub token). */
  uid: number;
  gid: number;
}

/** Writes the agent's Claude Code MCP config (mode 0600, owned by the agent) for `claude --mcp-config FILE --strict-mcp-config`. */
export function writeAgentMcpConfig(opts: AgentMcpConfigOptions): void {
  mkdirSync(dirname(opts.path), { recursive: true });
  writeFileSync(opts.path, `${JSON.stringify(mcpConfig(opts.url, opts.key), null, 2)}\n`, { mode: 0o600 });
  chownSync(opts.path, opts.uid, opts.gid);
}
