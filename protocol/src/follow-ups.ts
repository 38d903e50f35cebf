import { z } from "zod";
import { IsoTime } from "./names.js";

/** How much of a follow-up's text reaches Claude's prompt: enough for a review comment, bounded for the TUI. */
export const MAX_FOLLOW_UP_TEXT = 4_000;
/** At most this many follow-ups ride on one collector answer (the rest on the next). */
export const MAX_FOLLOW_UPS_PER_ANSWER = 5;

/**
 * A `/thopter …` on a live thopter's PR, waiting to be typed into its Claude session. The collector's answer to
 * `POST /v1/status` carries the pending ones; the observer types each once and names it in `delivered` on its next
 * report, after which the hub offers it no more.
 */
export const PendingFollowUp = z.object({
  id: z.string().min(1).max(100),
  text: z.string().min(1).max(MAX_FOLLOW_UP_TEXT),
});
export type PendingFollowUp = z.infer<typeof PendingFollowUp>;

/** A follow-up as the thopter's record keeps it (durably, before the 👀). */
export const StoredFollowUp = PendingFollowUp.extend({
  /** The pull request the command came from: the thopter's notices go there once this one is delivered. */
  pullNumber: z.number().int().positive(),
  requestedAt: IsoTime,
  deliveredAt: IsoTime.optional(),
});
export type StoredFollowUp = z.infer<typeof StoredFollowUp>;

/** The collector's answer to `POST /v1/status`. */
export const StatusAnswer = z.object({
  ok: z.literal(true),
  state: z.string(),
  duplicate: z.boolean(),
  followUps: z.array(PendingFollowUp).max(MAX_FOLLOW_UPS_PER_ANSWER).default([]),
});
export type StatusAnswer = z.infer<typeof StatusAnswer>;

/**
 * Text that is only text once typed into a terminal: control characters (ESC, Ctrl-C, newlines, DEL, C1) and
 * invisible format characters (bidi overrides) become spaces, then it is cut to `MAX_FOLLOW_UP_TEXT`.
 */
export function typeableText(text: string): string {
  return text
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, " ")
    .replace(/ {2,}/g, " ")
    .trim()
    .slice(0, MAX_FOLLOW_UP_TEXT);
}
