import { randomBytes } from "node:crypto";
import type { Reply } from "./scenario.js";

/** The assistant message the peer answers with, in the Messages API's own shape. */
export interface AssistantMessage {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: Array<
    { type: "text"; text: string } | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> }
  >;
  stop_reason: "end_turn" | "tool_use";
  stop_sequence: null;
  usage: Usage;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

const anthropicId = (prefix: string): string => `${prefix}_01${randomBytes(12).toString("hex")}`;

/** A rough token count (4 characters a token), enough for the CLI's cost and context displays. */
export const estimateTokens = (value: unknown): number => Math.max(1, Math.ceil(JSON.stringify(value).length / 4));

/** `usage` replaces the estimated counts (tests that check what the served usage costs). */
export function assistantMessage(
  reply: Reply,
  model: string,
  inputTokens: number,
  usage: Partial<Usage> = {},
): AssistantMessage {
  const content: AssistantMessage["content"] = [];
  if (reply.text) content.push({ type: "text", text: reply.text });
  for (const call of reply.toolCalls ?? []) {
    content.push({ type: "tool_use", id: anthropicId("toolu"), name: call.name, input: call.input });
  }
  if (content.length === 0) throw new Error("a reply needs text or at least one tool call");
  return {
    id: anthropicId("msg"),
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: reply.toolCalls?.length ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: {
      input_tokens: inputTokens,
      output_tokens: estimateTokens(content),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      ...usage,
    },
  };
}

/** Cut a string in a few pieces, as the API streams text and tool input in several deltas. */
function pieces(text: string, count = 3): string[] {
  const size = Math.max(1, Math.ceil(text.length / count));
  const out: string[] = [];
  for (let at = 0; at < text.length; at += size) out.push(text.slice(at, at + size));
  return out;
}

/**
 * The server-sent events Anthropic streams for one message: message_start, per block content_block_start /
 * content_block_delta (text_delta or input_json_delta) / content_block_stop, then message_delta with the stop
 * reason and output usage, then message_stop.
 */
export function sseEvents(message: AssistantMessage): string {
  const events: Array<[string, Record<string, unknown>]> = [
    [
      "message_start",
      {
        message: {
          ...message,
          content: [],
          stop_reason: null,
          usage: { ...message.usage, output_tokens: 1 },
        },
      },
    ],
  ];
  message.content.forEach((block, index) => {
    if (block.type === "text") {
      events.push(["content_block_start", { index, content_block: { type: "text", text: "" } }]);
      for (const text of pieces(block.text)) {
        events.push(["content_block_delta", { index, delta: { type: "text_delta", text } }]);
      }
    } else {
      events.push(["content_block_start", { index, content_block: { ...block, input: {} } }]);
      for (const partial_json of pieces(JSON.stringify(block.input))) {
        events.push(["content_block_delta", { index, delta: { type: "input_json_delta", partial_json } }]);
      }
    }
    events.push(["content_block_stop", { index }]);
  });
  events.push([
    "message_delta",
    {
      delta: { stop_reason: message.stop_reason, stop_sequence: null },
      usage: { output_tokens: message.usage.output_tokens },
    },
  ]);
  events.push(["message_stop", {}]);
  return events.map(([type, data]) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`).join("");
}

/** The error body Anthropic returns, which the CLI shows to the user. */
export const apiError = (type: string, message: string) => ({
  type: "error",
  error: { type, message },
});
