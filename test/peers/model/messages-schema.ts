import { z } from "zod";

/**
 * The parts of an Anthropic Messages API request the peer relies on, checked on every call so a CLI upgrade that
 * changes the wire shape fails loudly here instead of confusing a scenario. Objects stay loose: Claude Code sends
 * many beta fields (thinking, context_management, cache_control…) that the peer does not use.
 */

export const TextBlock = z.looseObject({ type: z.literal("text"), text: z.string() });

export const ToolUseBlock = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});
export type ToolUseBlock = z.infer<typeof ToolUseBlock>;

export const ToolResultBlock = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional(),
  is_error: z.boolean().optional(),
});
export type ToolResultBlock = z.infer<typeof ToolResultBlock>;

const knownBlocks: Record<string, z.ZodType> = {
  text: TextBlock,
  tool_use: ToolUseBlock,
  tool_result: ToolResultBlock,
};

/** Text, tool_use and tool_result blocks are checked in full; any other block (image, thinking…) only needs a type. */
export const ContentBlock = z.looseObject({ type: z.string().min(1) }).superRefine((block, ctx) => {
  const result = knownBlocks[block.type]?.safeParse(block);
  if (result && !result.success)
    ctx.addIssue({ code: "custom", message: `${block.type} block: ${z.prettifyError(result.error)}` });
});
export type ContentBlock = z.infer<typeof ContentBlock>;

/** Claude Code 2.1.3xx also sends `system` turns inside `messages` (the mid-conversation system-turn beta). */
export const Message = z.object({
  role: z.enum(["user", "assistant", "system"]),
  content: z.union([z.string(), z.array(ContentBlock)]),
});
export type Message = z.infer<typeof Message>;

/** A client tool has an input schema; server tools (`web_search_…`) have a `type` instead. */
export const Tool = z.union([
  z.looseObject({ name: z.string().min(1), input_schema: z.looseObject({ type: z.literal("object") }) }),
  z.looseObject({ name: z.string().min(1), type: z.string().min(1) }),
]);

export const MessagesRequest = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(Message).min(1),
  system: z.union([z.string(), z.array(TextBlock)]).optional(),
  tools: z.array(Tool).optional(),
  stream: z.boolean().optional(),
  metadata: z.looseObject({ user_id: z.string().optional() }).optional(),
  /** Structured output: `format: { type: "json_schema", schema }` asks for JSON that follows `schema`. */
  output_config: z
    .looseObject({ format: z.looseObject({ type: z.string(), schema: z.looseObject({}).optional() }).optional() })
    .optional(),
});
export type MessagesRequest = z.infer<typeof MessagesRequest>;

/** `POST /v1/messages/count_tokens` carries the same conversation without `max_tokens`/`stream`. */
export const CountTokensRequest = MessagesRequest.omit({ max_tokens: true, stream: true });
export type CountTokensRequest = z.infer<typeof CountTokensRequest>;

/** The text parts of a message's content, one string each (tool results and other blocks left out). */
export function textParts(message: Message): string[] {
  if (typeof message.content === "string") return [message.content];
  return message.content.flatMap((block) =>
    block.type === "text" && typeof block.text === "string" ? [block.text] : [],
  );
}

/** The tool_result blocks a message carries. */
export function toolResultBlocks(message: Message): ToolResultBlock[] {
  if (typeof message.content === "string") return [];
  return message.content.filter((block): block is ToolResultBlock => ToolResultBlock.safeParse(block).success);
}

/** The text of a tool_result's content (string form, or its text blocks joined). */
export function toolResultText(block: ToolResultBlock): string {
  if (block.content === undefined) return "";
  if (typeof block.content === "string") return block.content;
  return block.content
    .map((part) => (part.type === "text" && typeof part.text === "string" ? part.text : ""))
    .join("\n");
}
