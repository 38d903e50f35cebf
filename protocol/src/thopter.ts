import { z } from "zod";
import { StoredFollowUp } from "./follow-ups.js";
import { IsoTime, Name, RepoFullName } from "./names.js";
import { ThopterUsage } from "./usage.js";

export const ThopterState = z.enum([
  "requested",
  "provisioning",
  "booting",
  "working",
  "waiting",
  "done",
  "blocked",
  "failed",
  "stopping",
  "gone",
]);
export type ThopterState = z.infer<typeof ThopterState>;

/** The lifecycle (docs/architecture.md#thopter-states): requested → provisioning → booting → working ⇄ waiting → done | blocked | failed → stopping → gone. */
const NEXT: Record<ThopterState, readonly ThopterState[]> = {
  requested: ["provisioning", "failed", "stopping", "gone"],
  provisioning: ["booting", "failed", "stopping", "gone"],
  booting: ["working", "waiting", "done", "blocked", "failed", "stopping", "gone"],
  working: ["waiting", "done", "blocked", "failed", "stopping", "gone"],
  waiting: ["working", "done", "blocked", "failed", "stopping", "gone"],
  done: ["working", "waiting", "stopping", "gone"],
  blocked: ["working", "waiting", "stopping", "gone"],
  failed: ["stopping", "gone"],
  stopping: ["gone"],
  gone: [],
};

export function canTransition(from: ThopterState, to: ThopterState): boolean {
  return from === to || NEXT[from].includes(to);
}

/** States that hold a slot against MAX_THOPTERS: idle ones (done/blocked/waiting on a human) are reaped instead. */
export const ACTIVE_STATES: readonly ThopterState[] = ["requested", "provisioning", "booting", "working"];

export const TimelineEntry = z.object({
  at: IsoTime,
  source: z.enum(["hub", "observer", "broker"]),
  kind: z.string(),
  state: z.string().optional(),
  message: z.string(),
  /** A broker status report's `reason`, when it gave one (`budget`). */
  reason: z.string().max(64).optional(),
});
export type TimelineEntry = z.infer<typeof TimelineEntry>;

export const MachineRef = z.object({
  provider: z.enum(["local", "fly", "docker"]),
  id: z.string(),
  volumeId: z.string().optional(),
  address: z.string().optional(),
});
export type MachineRef = z.infer<typeof MachineRef>;

export const ThopterRecord = z.object({
  id: z.string(),
  requestId: z.string(),
  repo: RepoFullName,
  issueNumber: z.number().int().positive(),
  issueTitle: z.string(),
  branch: z.string(),
  gc: Name,
  prompt: Name,
  state: ThopterState,
  stateReason: z.string().optional(),
  stateSince: IsoTime,
  createdAt: IsoTime,
  machine: MachineRef.nullable(),
  lastReportAt: IsoTime.optional(),
  summary: z.string().optional(),
  pullRequestUrl: z.string().optional(),
  /** A follow-up's starting point: the branch tip it resumed from (its completion comment lists the commits since). */
  startTip: z.string().optional(),
  /** When the broker last pushed the work branch (its `push_branch` succeeded): before that the branch does not exist. */
  pushedAt: IsoTime.optional(),
  /** Model usage by source (docs/architecture.md#usage-and-cost). */
  usage: ThopterUsage.optional(),
  /**
   * When the model proxy first reported the thopter's budget (MAX_COST_USD) spent: the hub comments once and stops it
   * BUDGET_GRACE_MIN later, whatever it does meanwhile.
   */
  budgetSpentAt: IsoTime.optional(),
  /**
   * `/thopter …` commands on its PR for its running Claude session
   * (docs/architecture.md#the-review-loop-commands-on-a-thopters-pull-request).
   */
  followUps: z.array(StoredFollowUp).optional(),
  timeline: z.array(TimelineEntry),
});
export type ThopterRecord = z.infer<typeof ThopterRecord>;

export function workBranch(issueNumber: number, thopterId: string): string {
  return `thopter/${issueNumber}--${thopterId}`;
}

/** Whether a branch name is one `workBranch` makes (a thopter's branch, not just any `thopter/…` name). */
export function isWorkBranch(branch: string): boolean {
  return /^thopter\/[1-9]\d*--[A-Za-z0-9][A-Za-z0-9-]*$/.test(branch);
}
