import { z } from "zod";
import { Command } from "./command.js";
import { IsoTime, RepoFullName } from "./names.js";

export const AuthorAssociation = z.enum([
  "OWNER",
  "MEMBER",
  "COLLABORATOR",
  "CONTRIBUTOR",
  "FIRST_TIME_CONTRIBUTOR",
  "FIRST_TIMER",
  "MANNEQUIN",
  "NONE",
]);
export type AuthorAssociation = z.infer<typeof AuthorAssociation>;

/**
 * What a command was written in, besides an issue body or a conversation comment (on an issue or a pull request):
 * a line comment of a pull request's review, or a review's body. Their ids are separate id spaces on GitHub.
 */
export const SourceKind = z.enum(["review-comment", "review"]);
export type SourceKind = z.infer<typeof SourceKind>;

/** Where a command was written: a comment, or the issue body itself (commentId null). */
export const CommandSource = z.object({
  repo: RepoFullName,
  /** The issue's or pull request's number. */
  issueNumber: z.number().int().positive(),
  /** The comment's id (the review's for a review body). */
  commentId: z.number().int().positive().nullable(),
  /** Absent for an issue body or conversation comment. */
  kind: SourceKind.optional(),
  author: z.string(),
  authorAssociation: AuthorAssociation,
  url: z.string(),
  via: z.enum(["poll", "webhook"]),
  createdAt: IsoTime,
});
export type CommandSource = z.infer<typeof CommandSource>;

/** Stable identity of a command's text: one comment (or issue body) makes at most one request. */
export function sourceKey(s: Pick<CommandSource, "repo" | "issueNumber" | "commentId" | "kind">): string {
  if (s.kind) return `${s.repo}#${s.issueNumber}/${s.kind === "review" ? "r" : "rc"}${s.commentId}`;
  return s.commentId === null ? `${s.repo}#${s.issueNumber}/body` : `${s.repo}#${s.issueNumber}/c${s.commentId}`;
}

/**
 * The order commands were written in: GitHub's `created_at` of the comment (or issue), tie-broken by comment id (an
 * issue body comes first). Never the hub's time of storing: a command found late by the poller keeps its place.
 */
export function commandOrder(a: CommandSource, b: CommandSource): number {
  const at = Date.parse(a.createdAt) - Date.parse(b.createdAt);
  return at !== 0 ? Math.sign(at) : (a.commentId ?? 0) - (b.commentId ?? 0);
}

export const RequestState = z.enum(["queued", "provisioning", "provisioned", "failed", "cancelled"]);
export type RequestState = z.infer<typeof RequestState>;

/**
 * A command on a thopter's pull request: the new thopter works on that PR's branch (checked out at its tip) instead
 * of a branch of its own.
 */
export const FollowUp = z.object({
  pullNumber: z.number().int().positive(),
  branch: z.string().regex(/^thopter\//),
  /** The PR's head when the command was taken: where the new round starts (its completion comment lists what came after). */
  tipSha: z
    .string()
    .regex(/^[0-9a-f]{40}$/)
    .optional(),
});
export type FollowUp = z.infer<typeof FollowUp>;

/** An accepted command, stored before anything else happens so a restart loses nothing. */
export const ThopterRequest = z.object({
  id: z.string(),
  key: z.string(),
  source: CommandSource,
  issueTitle: z.string(),
  command: Command,
  state: RequestState,
  stateReason: z.string().optional(),
  /** 👀 posted on the command comment (the request was acknowledged on GitHub). */
  acknowledged: z.boolean(),
  createdAt: IsoTime,
  updatedAt: IsoTime,
  thopterIds: z.array(z.string()).default([]),
  followUp: FollowUp.optional(),
});
export type ThopterRequest = z.infer<typeof ThopterRequest>;
