import { z } from "zod";
import { IsoTime } from "./names.js";
import { ModelUsage } from "./usage.js";

export const MAX_SUMMARY = 20_000;

/** The Claude Code hooks a thopter's runtime installs; each becomes a StatusReport's `event`. */
export const HOOK_EVENTS = [
  "SessionStart",
  "UserPromptSubmit",
  "PreToolUse",
  "PostToolUse",
  "Stop",
  "StopFailure",
  "Notification",
  "SessionEnd",
] as const;

/** Observer → collector (`POST /v1/status`, status-role token): what Claude is doing, from its hooks. */
export const StatusReport = z.object({
  state: z.enum(["booting", "working", "waiting", "ended", "failed"]),
  reason: z.enum(["permission", "idle", "question", "heartbeat", "pane"]).optional(),
  event: z.string().max(64),
  detail: z.string().max(2_000).optional(),
  sessionId: z.string().max(200).optional(),
  /** Totals read from the session transcript(s) so far (cumulative; the latest replaces the earlier). */
  usage: ModelUsage.optional(),
  /** Follow-ups the observer has typed into Claude's session (ids from the collector's answers). */
  delivered: z.array(z.string().min(1).max(100)).max(50).optional(),
  at: IsoTime,
});
export type StatusReport = z.infer<typeof StatusReport>;

export const AgentState = z.enum(["working", "done", "blocked", "needs_input"]);
export type AgentState = z.infer<typeof AgentState>;

/** `report_status` as the broker forwards it. */
export const BrokerStatusReport = z.object({
  kind: z.literal("status"),
  state: AgentState,
  summary: z.string().max(MAX_SUMMARY),
  branch: z.string().optional(),
  pullRequestUrl: z.string().optional(),
  /**
   * Why, when not the agent's own word: `budget` when the model proxy reports `blocked` because the thopter's
   * MAX_COST_USD is spent (it then refuses model calls); the hub comments with what was spent and stops the thopter.
   */
  reason: z.enum(["budget"]).optional(),
});

/** One broker tool call, for the hub's audit trail (arguments already redacted). */
export const BrokerAuditReport = z.object({
  kind: z.literal("audit"),
  tool: z.string().max(64),
  args: z.record(z.string(), z.unknown()),
  outcome: z.enum(["ok", "refused", "error"]),
  message: z.string().max(4_000),
  durationMs: z.number().nonnegative(),
});

/** The model proxy's count of the model's own usage figures: totals since boot, the latest replaces the earlier. */
export const BrokerUsageReport = z.object({
  kind: z.literal("usage"),
  models: ModelUsage,
});

/** Broker → collector (`POST /v1/reports`, broker-role token); the idempotency key makes outbox retries count once. */
export const BrokerReport = z.object({
  idempotencyKey: z.string().min(1).max(200),
  at: IsoTime,
  body: z.discriminatedUnion("kind", [BrokerStatusReport, BrokerAuditReport, BrokerUsageReport]),
});
export type BrokerReport = z.infer<typeof BrokerReport>;
export type BrokerStatusReport = z.infer<typeof BrokerStatusReport>;
export type BrokerAuditReport = z.infer<typeof BrokerAuditReport>;
export type BrokerUsageReport = z.infer<typeof BrokerUsageReport>;
