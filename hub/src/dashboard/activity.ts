import { HOOK_EVENTS, type TimelineEntry } from "@thopter/protocol";

/**
 * Timeline entries in words ("reading src/add.js", "waiting for your answer: …") instead of hook names. Observer
 * messages are `event[: reason][: detail]` (collector/apply.ts); a tool hook's detail is `Tool target` (observer).
 */

const REASONS = ["permission", "idle", "question", "heartbeat", "pane"];
/** Status events that are hook names (and the observer's own two), which a reason must not show as such. */
const HOOKS = new Set<string>([...HOOK_EVENTS, "heartbeat", "pane"]);

/** A test run by any of the usual runners gets called what it is. */
const TEST_COMMAND =
  /(^|[\s;&|(])((npm|pnpm|yarn|bun)( run)? test|npx (vitest|jest)|vitest|jest|pytest|go test|cargo test|make test|rspec|phpunit|mocha)\b/;

/** The push broker's tools: what calling one means, and what it means once it succeeded. */
const BROKER_TOOLS: Record<string, [string, string]> = {
  push_branch: ["pushing the branch", "pushed the branch"],
  open_pull_request: ["opening a pull request", "opened a pull request"],
  comment_on_issue: ["commenting on the issue", "commented on the issue"],
  get_issue: ["reading the issue", "read the issue"],
  update_from_origin: ["updating from the repository", "updated from the repository"],
  report_status: ["reporting its status", "reported its status"],
};

const FILE_VERBS: Record<string, string> = {
  Read: "reading",
  Edit: "editing",
  MultiEdit: "editing",
  NotebookEdit: "editing",
  Write: "writing",
};

function withDetail(text: string, detail: string | undefined): string {
  return detail ? `${text}: ${detail}` : text;
}

/** `Read src/a.js` → "reading src/a.js"; `mcp__thopter__push_branch` → "pushing the branch". */
export function toolWords(detail: string): string {
  const space = detail.indexOf(" ");
  const name = space === -1 ? detail : detail.slice(0, space);
  const target = space === -1 ? "" : detail.slice(space + 1);
  const verb = FILE_VERBS[name];
  if (verb) return `${verb} ${target || "a file"}`;
  if (name === "Bash") {
    if (!target) return "running a command";
    return TEST_COMMAND.test(target) ? `running tests: \`${target}\`` : `running \`${target}\``;
  }
  if (name === "Grep") return `searching the code for “${target}”`;
  if (name === "Glob") return `looking for files ${target}`;
  if (name === "WebFetch") return `fetching ${target}`;
  if (name === "WebSearch") return `searching the web for “${target}”`;
  if (name === "Task" || name === "Agent") return withDetail("handing work to a subagent", target);
  if (name === "TodoWrite") return "updating its to-do list";
  if (name === "ToolSearch") return "loading tools";
  const mcp = /^mcp__(.+?)__(.+)$/.exec(name);
  if (mcp) return BROKER_TOOLS[mcp[2]!]?.[0] ?? `using ${mcp[2]} (${mcp[1]})`;
  return `using ${name}${target ? ` on ${target}` : ""}`;
}

/** Splits an observer message into its reason and detail. */
function observerParts(e: TimelineEntry): { reason?: string; detail?: string } {
  let rest = e.message.startsWith(`${e.kind}: `) ? e.message.slice(e.kind.length + 2) : "";
  const reason = REASONS.find((r) => rest === r || rest.startsWith(`${r}: `));
  if (reason) rest = rest.slice(reason.length + 2);
  return { reason, detail: rest || undefined };
}

function waitingWords(reason: string | undefined, detail: string | undefined): string {
  if (reason === "permission") return withDetail("waiting for your permission", detail);
  if (reason === "question") return withDetail("waiting for your answer", detail);
  return withDetail("waiting for you", detail);
}

function observerWords(e: TimelineEntry): string {
  const { reason, detail } = observerParts(e);
  switch (e.kind) {
    case "PreToolUse":
    case "PostToolUse":
      return detail ? toolWords(detail) : e.message;
    case "SessionStart":
      return detail === "resume" ? "Claude resumed its session" : "Claude started";
    case "UserPromptSubmit":
      return "got a new prompt";
    case "Stop":
      return reason === "question" ? waitingWords(reason, detail) : withDetail("finished its turn", detail);
    case "StopFailure":
      return withDetail("stopped on an error", detail);
    case "Notification":
      return waitingWords(reason, detail);
    case "SessionEnd":
      return detail ? `Claude exited (${detail})` : "Claude exited";
    case "heartbeat":
      return `still ${e.state ?? "running"}`;
    case "pane":
      return `${e.state ?? "active"}, as its screen shows`;
    case "firewall":
      return detail ?? e.message;
    default:
      return e.message;
  }
}

function brokerWords(e: TimelineEntry): string {
  if (e.kind === "report_status") {
    if (e.state === "needs_input") return withDetail("asks for your input", e.message);
    return withDetail(`reported ${e.state ?? "its status"}`, e.message);
  }
  const tool = e.kind.replace(/^tool:/, "");
  const [doing, done] = BROKER_TOOLS[tool] ?? [`using ${tool}`, `used ${tool}`];
  if (e.state === "ok") return withDetail(done, e.message);
  return withDetail(`${doing} ${e.state === "refused" ? "was refused" : "failed"}`, e.message);
}

/** Why a thopter is in its state, in words: hook names (`Notification (idle)`) become what they mean. */
export function reasonWords(reason: string | undefined): string | undefined {
  const hook = reason && /^(\w+)(?: \((\w+)\))?$/.exec(reason);
  if (!hook || !HOOKS.has(hook[1]!)) return reason?.replace(/^report_status /, "reported ");
  const [, event, why] = hook;
  if (event === "Notification" || (event === "Stop" && why === "question")) return waitingWords(why, undefined);
  if (event === "Stop") return "finished its turn";
  if (event === "StopFailure") return "stopped on an error";
  if (event === "SessionEnd") return "Claude exited";
  return undefined;
}

/** One timeline entry in words. */
export function activityText(e: TimelineEntry): string {
  if (e.source === "observer") return observerWords(e);
  if (e.source === "broker") return brokerWords(e);
  if (e.kind === "state")
    return withDetail(`now ${e.state}`, e.message === e.state ? undefined : reasonWords(e.message));
  return e.message;
}

/** What the reports filter offers besides the source. */
export type ActivityKind = "tool" | "conversation" | "lifecycle";

export function activityKind(e: TimelineEntry): ActivityKind {
  if (e.kind === "PreToolUse" || e.kind === "PostToolUse" || e.kind.startsWith("tool:")) return "tool";
  if (e.source === "hub" || e.kind === "boot" || e.kind === "firewall") return "lifecycle";
  return "conversation";
}
