import { redactSecrets, type StatusReport } from "@thopter/protocol";

/** What every Claude Code hook gets on stdin (the fields the observer reads; the rest is ignored). */
export interface HookInput {
  hook_event_name: string;
  session_id?: string;
  tool_name?: string;
  tool_input?: unknown;
  cwd?: string;
  last_assistant_message?: string;
  notification_type?: string;
  message?: string;
  reason?: string;
  source?: string;
  error?: unknown;
}

/** The hooks the runtime installs, each firing the observer's `hook` entry (the hub reads their names too). */
export { HOOK_EVENTS } from "@thopter/protocol";

const DETAIL_CHARS = 200;

/** One line, short, with secrets scrubbed: details are shown on the dashboard. */
function detail(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const line = redactSecrets(text.replace(/\s+/g, " ").trim());
  return line.length > DETAIL_CHARS ? `${line.slice(0, DETAIL_CHARS - 1)}…` : line || undefined;
}

/** A reply that ends with a question hands the turn back to a human who must answer, not just look. */
function endsWithQuestion(text: string | undefined): boolean {
  return /\?\s*[*_`)"'”’]*\s*$/.test(text ?? "");
}

function notificationReason(input: HookInput): NonNullable<StatusReport["reason"]> {
  switch (input.notification_type) {
    case "permission_prompt":
      return "permission";
    case "elicitation_dialog":
      return "question";
    case "idle_prompt":
      return "idle";
    default:
      return /permission/i.test(input.message ?? "") ? "permission" : "idle";
  }
}

/** The input field that says what a built-in tool works on; the dashboard turns it into words ("reading src/a.js"). */
const TOOL_TARGET: Record<string, string> = {
  Read: "file_path",
  Edit: "file_path",
  MultiEdit: "file_path",
  Write: "file_path",
  NotebookEdit: "notebook_path",
  Bash: "command",
  Grep: "pattern",
  Glob: "pattern",
  WebFetch: "url",
  WebSearch: "query",
  Task: "description",
  Agent: "description",
};

/** `Read src/a.js`: the tool's name (never with a space), then its target, a path relative to the session's cwd. */
function toolDetail(input: HookInput): string | undefined {
  const name = input.tool_name;
  const field = name && Object.hasOwn(TOOL_TARGET, name) ? TOOL_TARGET[name] : undefined;
  const args = input.tool_input;
  const value =
    field && typeof args === "object" && args !== null ? (args as Record<string, unknown>)[field] : undefined;
  if (typeof value !== "string" || value.trim() === "") return detail(name);
  const cwd = input.cwd?.replace(/\/+$/, "");
  const target = cwd && value.startsWith(`${cwd}/`) ? value.slice(cwd.length + 1) : value;
  return detail(`${name} ${target}`);
}

type Mapped = Pick<StatusReport, "state" | "reason" | "detail">;

function mapEvent(input: HookInput): Mapped | undefined {
  switch (input.hook_event_name) {
    case "SessionStart":
      return { state: "working", detail: detail(input.source) };
    case "UserPromptSubmit":
      return { state: "working" };
    case "PreToolUse":
    case "PostToolUse":
      return { state: "working", detail: toolDetail(input) };
    case "Stop":
      return {
        state: "waiting",
        reason: endsWithQuestion(input.last_assistant_message) ? "question" : "idle",
        detail: detail(input.last_assistant_message),
      };
    case "StopFailure":
      return { state: "waiting", reason: "idle", detail: detail(input.last_assistant_message ?? String(input.error)) };
    case "Notification":
      return { state: "waiting", reason: notificationReason(input), detail: detail(input.message) };
    case "SessionEnd":
      return { state: "ended", detail: detail(input.reason) };
    default:
      return undefined;
  }
}

/** The status a hook's input means, or undefined for an event the observer does not report. */
export function statusFromHook(input: HookInput, at: Date = new Date()): StatusReport | undefined {
  const mapped = mapEvent(input);
  if (!mapped) return undefined;
  const report: StatusReport = { ...mapped, event: input.hook_event_name.slice(0, 64), at: at.toISOString() };
  if (report.reason === undefined) delete report.reason;
  if (report.detail === undefined) delete report.detail;
  if (input.session_id) report.sessionId = input.session_id.slice(0, 200);
  return report;
}

/** Parses a hook's stdin; anything that is not a JSON object with `hook_event_name` is an error naming what came. */
export function parseHookInput(text: string): HookInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`hook input is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (typeof value !== "object" || value === null || typeof (value as HookInput).hook_event_name !== "string") {
    throw new Error("hook input has no hook_event_name: run this only as a Claude Code hook");
  }
  return value as HookInput;
}
