import type { TimelineEntry } from "@thopter/protocol";

/**
 * A timeline keeps its newest entries, so a long session does not make every write huge. Each source (hub,
 * observer, broker) keeps up to this many of its own: a flood of observer status reports cannot push the broker's
 * tool calls or the hub's lifecycle entries out of sight.
 */
export const TIMELINE_LIMIT = 300;
/** Longer messages (a 20,000-character summary) are cut on the timeline; the record keeps the whole summary. */
export const MESSAGE_LIMIT = 2_000;

/** Appends an entry, cutting its message and dropping the oldest entries of its source beyond the limit. */
export function appendEntry(timeline: TimelineEntry[], entry: TimelineEntry): void {
  timeline.push(
    entry.message.length > MESSAGE_LIMIT ? { ...entry, message: `${entry.message.slice(0, MESSAGE_LIMIT)}…` } : entry,
  );
  let excess = -TIMELINE_LIMIT;
  for (const e of timeline) if (e.source === entry.source) excess++;
  for (let i = 0; excess > 0 && i < timeline.length; ) {
    if (timeline[i]!.source === entry.source) {
      timeline.splice(i, 1);
      excess--;
    } else i++;
  }
}
