import type { TimelineEntry } from "@thopter/protocol";
import { type ActivityKind, activityKind, activityText } from "./activity.js";
import { ago, timeTag } from "./format.js";
import { type Html, html } from "./html.js";

/** One row of the reports table: an entry, or a tool call (PreToolUse with its PostToolUse as `finished`). */
export interface ReportRow {
  entry: TimelineEntry;
  text: string;
  kind: ActivityKind;
  finished?: TimelineEntry;
}

/** Entries of other sources (the broker's audit of an MCP call) may come between a tool call's Pre and Post. */
const LOOKAHEAD = 8;

const toolDetail = (e: TimelineEntry) => e.message.slice(e.kind.length);

/** The timeline, oldest first, with each tool call's PreToolUse and PostToolUse folded into one row. */
export function reportRows(timeline: readonly TimelineEntry[]): ReportRow[] {
  const rows: ReportRow[] = [];
  const merged = new Set<number>();
  timeline.forEach((entry, i) => {
    if (merged.has(i)) return;
    const row: ReportRow = { entry, text: activityText(entry), kind: activityKind(entry) };
    if (entry.source === "observer" && entry.kind === "PreToolUse") {
      for (let j = i + 1; j < timeline.length && j <= i + LOOKAHEAD; j++) {
        const next = timeline[j]!;
        if (next.source !== "observer") continue;
        if (next.kind === "PostToolUse" && toolDetail(next) === toolDetail(entry)) {
          row.finished = next;
          merged.add(j);
        }
        break;
      }
    }
    rows.push(row);
  });
  return rows;
}

const SOURCES: [string, string][] = [
  ["observer", "Claude (hooks)"],
  ["broker", "push broker"],
  ["hub", "hub"],
];
const KINDS: [ActivityKind, string][] = [
  ["tool", "tool calls"],
  ["conversation", "conversation"],
  ["lifecycle", "lifecycle"],
];

function select(name: string, label: string, options: [string, string][]): Html {
  return html`<label>${label} <select name="${name}"><option value="">any</option>${options.map(
    ([value, text]) => html`<option value="${value}">${text}</option>`,
  )}</select></label>`;
}

/** The filter above the reports table; the page's script hides the rows it excludes. */
export const REPORT_FILTER = html`<form id="report-filter" class="filters">${select("source", "from", SOURCES)} ${select("kind", "kind", KINDS)}</form>`;

function rowHtml(row: ReportRow, now: number): Html {
  const { entry, finished } = row;
  let status: Html | string = "";
  if (finished) status = html` <small class="took">done in ${ago(entry.at, Date.parse(finished.at))}</small>`;
  else if (entry.kind === "PreToolUse") status = html` <small class="took">started</small>`;
  return html`<tr data-source="${entry.source}" data-kind="${row.kind}"><td>${timeTag(entry.at, now)}</td><td>${
    SOURCES.find(([s]) => s === entry.source)?.[1] ?? entry.source
  }</td><td class="message">${row.text}${status}</td></tr>`;
}

/** The reports table, newest first (the part of the thopter page the live script fetches again). */
export function reportsTable(timeline: readonly TimelineEntry[], now: number): Html {
  if (timeline.length === 0) return html`<p class="empty">No reports yet.</p>`;
  const rows = reportRows(timeline).reverse();
  return html`<div class="scroll"><table class="timeline"><thead><tr><th>when</th><th>from</th><th>what</th></tr></thead><tbody>${rows.map(
    (row) => rowHtml(row, now),
  )}</tbody></table></div>`;
}
