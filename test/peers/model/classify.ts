import { type MessagesRequest, textParts } from "./messages-schema.js";

/**
 * Which requests belong to the main conversation (and consume scenario turns) and which are Claude Code's side
 * requests. Observed with @anthropic-ai/claude-code 2.1.330 against this peer:
 * - Main loop: every request offers the tool list (Bash, Edit, Read, Write, …, plus `mcp__*` tools) with the agent
 *   system prompt, in `-p` and interactive sessions alike.
 * - With CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 (how the tests and thopters run) nothing else was sent: no
 *   `HEAD /`, no title request, no quota check.
 * - Without it, an interactive session also sends `HEAD /api/hello` (a connectivity probe) and, for each user prompt,
 *   a session-title request: `tools: []`, a "You are naming a coding session…" system prompt and
 *   `output_config.format` = `{ type: "json_schema", schema: { title: string } }`.
 * - Compaction (automatic near the context limit, or after a "prompt is too long" error): the conversation so far with
 *   the same tools, plus a last user text "CRITICAL: Respond with TEXT ONLY… Your task is to create a detailed summary
 *   of the conversation so far…", expecting `<analysis>…</analysis>` then `<summary>…</summary>`.
 * So: a request that offers tools, asks for no structured output and no summary is the main loop; anything else is a
 * side request, answered without touching the scenario.
 */
export function isMainLoop(request: MessagesRequest): boolean {
  return (
    (request.tools ?? []).length > 0 && structuredOutputSchema(request) === undefined && !isSummaryRequest(request)
  );
}

const SUMMARY_TASK = "Your task is to create a detailed summary of the conversation so far";

/** A compaction request: Claude Code asks for a summary of the conversation to continue from. */
export function isSummaryRequest(request: MessagesRequest): boolean {
  const last = request.messages.at(-1);
  return last?.role === "user" && textParts(last).some((text) => text.includes(SUMMARY_TASK));
}

/** The JSON schema a request wants its answer to follow (`output_config.format`), if any. */
export function structuredOutputSchema(request: MessagesRequest): JsonSchema | undefined {
  const format = request.output_config?.format;
  return format?.type === "json_schema" ? ((format.schema ?? {}) as JsonSchema) : undefined;
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
}

/** A small value that satisfies a JSON schema, with `text` for every string (the answer to a side request). */
export function sampleFor(schema: JsonSchema, text: string): unknown {
  if (schema.enum?.length) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object":
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([key, property]) => [key, sampleFor(property, text)]),
      );
    case "array":
      return [];
    case "number":
    case "integer":
      return 0;
    case "boolean":
      return false;
    case "null":
      return null;
    default:
      return text;
  }
}

const DEFERRED_INTRO = "The following deferred tools are now available via ToolSearch";

/**
 * The tools a request lets the model call: those in `tools`, plus the deferred ones (MCP tools among them) that
 * Claude Code only names, one a line, in a system turn after "The following deferred tools are now available via
 * ToolSearch…". A real model loads them first with `ToolSearch` (`select:<name>`; scenario helper `loadTools`), after
 * which they appear in `tools` with `defer_loading: true` and their schema; 2.1.330 also runs a direct call.
 */
export function offeredTools(request: MessagesRequest): Set<string> {
  const names = new Set((request.tools ?? []).map((tool) => tool.name));
  for (const text of request.messages.flatMap(textParts)) {
    for (const paragraph of text.split("\n\n")) {
      if (!paragraph.includes(DEFERRED_INTRO)) continue;
      for (const line of paragraph.split("\n").slice(1)) if (/^[\w-]+$/.test(line)) names.add(line);
    }
  }
  return names;
}
