import type { TimelineEntry } from "@thopter/protocol";

/**
 * A timeline keeps its newest entries, so a long session does not make every write huge. The broker's entries
 * (tool calls, report_status) and everyone else's are bounded separately, each to this many: a flood of status
 * reports cannot push the broker's audit entries out of sight, nor the reverse.
 */
export const TIMELINE_LIMIT = 300;
/** Longer messages (a 20,000-character summary) are cut on the timeline; the record keeps the whole summary. */
export const MESSAGE_LIMIT = 2_000;

const isBroker = (entry: TimelineEntry) => entry.source === "broker";

/** Appends an entry, cutting its message and dropping the oldest entries of its own kind beyond the limit. */
export function appendEntry(timeline: TimelineEntry[], entry: TimelineEntry): void {
  timeline.push(
    entry.message.length > MESSAGE_LIMIT ? { ...entry, message: `${entry.message.slice(0, MESSAGE_LIMIT)}…` } : entry,
  );
  const broker = isBroker(entry);
  let excess = -TIMELINE_LIMIT;
  for (const e of timeline) if (isBroker(e) === broker) excess++;
  for (let i = 0; excess > 0 && i < timeline.length; ) {
    if (isBroker(timeline[i]!) === broker) {
      timeline.splice(i, 1);
      excess--;
    } else i++;
  }
}
