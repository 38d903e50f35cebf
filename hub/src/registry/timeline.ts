import type { TimelineEntry } from "@thopter/protocol";

/** A timeline keeps its newest entries; older ones are dropped so a long session does not make every write huge. */
export const TIMELINE_LIMIT = 300;
/** Longer messages (a 20,000-character summary) are cut on the timeline; the record keeps the whole summary. */
export const MESSAGE_LIMIT = 2_000;

/** Appends an entry, cutting its message and dropping the oldest entries beyond the limit. */
export function appendEntry(timeline: TimelineEntry[], entry: TimelineEntry): void {
  timeline.push(
    entry.message.length > MESSAGE_LIMIT ? { ...entry, message: `${entry.message.slice(0, MESSAGE_LIMIT)}…` } : entry,
  );
  if (timeline.length > TIMELINE_LIMIT) timeline.splice(0, timeline.length - TIMELINE_LIMIT);
}
