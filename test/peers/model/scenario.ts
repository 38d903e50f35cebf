import type { MessagesRequest } from "./messages-schema.js";

/** One tool the scripted model calls; `name` as Claude Code offers it (`Bash`, `Write`, `mcp__thopter__push_branch`…). */
export interface ToolCall {
  name: string;
  input: Record<string, unknown>;
}

/**
 * What the model answers on one turn: text, tool calls, or both (text first, as Claude does). Tool calls end the
 * response with `stop_reason: "tool_use"`; a reply without them ends the model's turn (`end_turn`) and hands the
 * conversation back to the user.
 */
export interface Reply {
  text?: string;
  toolCalls?: ToolCall[];
  /** Answer with this API error instead of a message (the CLI retries 429/5xx, not 4xx). */
  error?: ApiFailure;
}

/** An error response as the Messages API sends it (`{ type: "error", error: { type, message } }`). */
export interface ApiFailure {
  status: number;
  type: string;
  message: string;
}

/** A tool result Claude Code sent back, joined with the call the peer made. */
export interface ToolResult {
  toolUseId: string;
  name: string;
  input: Record<string, unknown>;
  /** The result's text (text parts joined). */
  text: string;
  isError: boolean;
  /** The main-loop turn whose request carried this result. */
  turn: number;
}

/** What a scripted turn can look at to decide its reply. */
export interface TurnContext {
  /** 0-based index of this turn in the scenario. */
  turn: number;
  request: MessagesRequest;
  /** Tool results carried by this request (the answers to the previous turn's calls). */
  toolResults: ToolResult[];
  /** Text the user typed since the model's last reply (empty when this request only carries tool results). */
  userText: string;
}

/** A turn is a fixed reply, or a function of the request (to read the previous tool results, for instance). */
export type Turn = Reply | ((context: TurnContext) => Reply | Promise<Reply>);

/** The main conversation, turn by turn. When it runs out, the peer ends the model's turn with a short text. */
export type Scenario = readonly Turn[];

export const say = (text: string): Reply => ({ text });

export const callTools = (...toolCalls: ToolCall[]): Reply => ({ toolCalls });

/** The API fails this turn, e.g. `failWith(400, "invalid_request_error", "prompt is too long")`. */
export const failWith = (status: number, type: string, message: string): Reply => ({
  error: { status, type, message },
});

export const bash = (command: string, description = "Run a command"): ToolCall => ({
  name: "Bash",
  input: { command, description },
});

/** Write (create or replace) a file; Claude Code wants an absolute path. */
export const writeFile = (filePath: string, content: string): ToolCall => ({
  name: "Write",
  input: { file_path: filePath, content },
});

/** Claude Code refuses Edit on a file not Read in the same conversation: read it on an earlier turn. */
export const readFile = (filePath: string): ToolCall => ({ name: "Read", input: { file_path: filePath } });

export const editFile = (filePath: string, oldString: string, newString: string): ToolCall => ({
  name: "Edit",
  input: { file_path: filePath, old_string: oldString, new_string: newString },
});

/** A tool of an MCP server as Claude Code names it: `mcp__<server>__<tool>`. */
export const mcpTool = (server: string, tool: string, input: Record<string, unknown> = {}): ToolCall => ({
  name: `mcp__${server}__${tool}`,
  input,
});

/**
 * Load deferred tools (MCP tools among them) the way Claude does: Claude Code lists them by name only, and a
 * `ToolSearch` call with `select:` makes the next requests carry their schemas, so the peer can check the input.
 */
export const loadTools = (...names: string[]): ToolCall => ({
  name: "ToolSearch",
  input: { query: `select:${names.join(",")}`, max_results: names.length },
});
