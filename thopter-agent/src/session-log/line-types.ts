import { isObject, type Json } from "./json.js";

/**
 * Line types Claude Code writes that carry bookkeeping rather than conversation (see the vendored session schemas),
 * shown as one muted line with the field that says most about them.
 */
export const BOOKKEEPING: Record<string, (line: Json) => unknown> = {
  progress: (line) => (isObject(line.data) ? (line.data.hookName ?? line.data.type) : undefined),
  "file-history-snapshot": () => undefined,
  "queue-operation": (line) => line.operation,
  "pr-link": (line) => line.prUrl,
  "agent-name": (line) => line.agentName,
  "custom-title": (line) => line.customTitle,
  "ai-title": (line) => line.aiTitle,
  "last-prompt": (line) => line.lastPrompt,
  "permission-mode": (line) => line.permissionMode,
  "agent-setting": (line) => line.agentSetting,
  attachment: (line) => (isObject(line.attachment) ? line.attachment.type : undefined),
  "bridge-session": () => undefined,
  "worktree-state": () => undefined,
};
/** Line types rendered as conversation; with BOOKKEEPING, every type this log shows as its own entry. */
const CONVERSATION = new Set(["user", "assistant", "system", "summary"]);

export function rendered(type: string): boolean {
  return CONVERSATION.has(type) || Object.hasOwn(BOOKKEEPING, type);
}
