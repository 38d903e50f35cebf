import type { AgentState, BrokerReport, StatusReport, ThopterState } from "@thopter/protocol";
import type { Registry, ThopterUpdate, UpdateResult } from "../registry/index.js";
import { markDelivered } from "../requests/live-follow-ups.js";

/**
 * What an observer's word means for the thopter's state. `booting` confirms the boot; `ended` (Claude exited
 * without reporting) leaves a working thopter waiting for a human, so the reaper's idle clock starts.
 */
const OBSERVER_STATE: Record<StatusReport["state"], ThopterState> = {
  booting: "booting",
  working: "working",
  waiting: "waiting",
  ended: "waiting",
  failed: "failed",
};

/** `report_status` states; `needs_input` waits on a human just as a permission prompt does. */
const BROKER_STATE: Record<AgentState, ThopterState> = {
  working: "working",
  done: "done",
  blocked: "blocked",
  needs_input: "waiting",
};

/**
 * After report_status(done|blocked), the hooks still fire (PostToolUse of that very call, then Stop): that is not
 * news. Only a human's new prompt takes a settled thopter back to work through the observer.
 */
const SETTLED: readonly ThopterState[] = ["done", "blocked"];
const REVIVING_EVENT = "UserPromptSubmit";

export function applyStatus(registry: Registry, thopterId: string, report: StatusReport): Promise<UpdateResult> {
  const record = registry.get(thopterId);
  const settled = record !== undefined && SETTLED.includes(record.state) && report.event !== REVIVING_EVENT;
  const state = settled ? undefined : OBSERVER_STATE[report.state];
  const message = [report.event, report.reason, report.detail].filter(Boolean).join(": ");
  const patch: NonNullable<ThopterUpdate["patch"]> = { lastReportAt: new Date().toISOString() };
  const transcript = record?.usage?.transcript;
  // Cumulative totals: a spooled report older than the figure held would take it back.
  if (report.usage && !(transcript && transcript.at > report.at)) {
    patch.usage = { ...record?.usage, transcript: { models: report.usage, at: report.at } };
  }
  // The observer typed these into Claude's session: the hub offers them no more (kept durably, so never twice).
  const followUps = markDelivered(record?.followUps, report.delivered ?? [], new Date().toISOString());
  if (followUps) patch.followUps = followUps;
  // A heartbeat that changes nothing only proves the thopter is alive: it would crowd real events off the timeline.
  const quiet = report.reason === "heartbeat" && (state === undefined || state === record?.state);
  const update: ThopterUpdate = {
    state,
    onlyIfAllowed: true,
    stateReason: report.reason ? `${report.event} (${report.reason})` : report.event,
    patch,
    durable: followUps !== undefined,
    entry: quiet ? undefined : { at: report.at, source: "observer", kind: report.event, state: report.state, message },
  };
  return registry.update(thopterId, update);
}

/** The broker tool whose success means the work branch exists on GitHub (the dashboard links it from then on). */
const PUSH_TOOL = "push_branch";

export function applyBrokerReport(registry: Registry, thopterId: string, report: BrokerReport): Promise<UpdateResult> {
  const { body } = report;
  const base = {
    idempotencyKey: report.idempotencyKey,
    onlyIfAllowed: true,
    patch: { lastReportAt: new Date().toISOString() } as NonNullable<ThopterUpdate["patch"]>,
  };
  if (body.kind === "audit") {
    if (body.tool === PUSH_TOOL && body.outcome === "ok") base.patch.pushedAt = report.at;
    return registry.update(thopterId, {
      ...base,
      entry: { at: report.at, source: "broker", kind: `tool:${body.tool}`, state: body.outcome, message: body.message },
    });
  }
  if (body.kind === "usage") {
    // Counted by the root-owned model proxy; kept beside the transcript's figure, never merged into it.
    base.patch.usage = { ...registry.get(thopterId)?.usage, proxy: { models: body.models, at: report.at } };
    return registry.update(thopterId, base);
  }
  if (body.summary) base.patch.summary = body.summary;
  // Only the first such report starts the grace period (a restarted proxy may report again); the hub's clock, as
  // the reaper's, so a thopter's clock cannot shorten or stretch it.
  if (body.reason === "budget")
    base.patch.budgetSpentAt = registry.get(thopterId)?.budgetSpentAt ?? base.patch.lastReportAt;
  if (body.pullRequestUrl) base.patch.pullRequestUrl = body.pullRequestUrl;
  return registry.update(thopterId, {
    ...base,
    state: BROKER_STATE[body.state],
    stateReason: body.reason ? `report_status ${body.state} (${body.reason})` : `report_status ${body.state}`,
    entry: {
      at: report.at,
      source: "broker",
      kind: "report_status",
      state: body.state,
      message: body.summary,
      ...(body.reason ? { reason: body.reason } : {}),
    },
  });
}
