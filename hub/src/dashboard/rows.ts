import { ACTIVE_STATES, type PriceTable, type ThopterRecord, type ThopterRequest } from "@thopter/protocol";
import type { UsageTotal } from "../usage/view.js";
import { activityText, reasonWords } from "./activity.js";
import { timeTag } from "./format.js";
import { type Html, html, safeUrl } from "./html.js";
import { costCell, totalText } from "./usage.js";

/** What every page and live update needs to draw thopters. */
export interface ViewContext {
  /** `https://github.com` (or the GHES / peer web base). */
  webUrl: string;
  now: number;
  /** The session's CSRF token; live updates render "" and the page's script fills in its own. */
  csrf: string;
  /** What costs are worked out with (MODEL_PRICES_FILE or the shipped table). */
  prices: PriceTable;
}

export interface SwarmStatus {
  paused: boolean;
  active: number;
  max: number;
  warnings: readonly string[];
  /** Every thopter's usage added up. */
  usage: UsageTotal;
}

const STOPPABLE = (state: ThopterRecord["state"]) => state !== "stopping" && state !== "gone";

/** The thopter's boot reported that it runs without the egress firewall (the observer's `firewall` event). */
export function firewallSkipped(r: Readonly<ThopterRecord>): boolean {
  return r.timeline.some((e) => e.kind === "firewall" && e.source === "observer");
}

/**
 * Why a thopter runs without the firewall: a local one shares the host's network, so there is no separate network to
 * filter; any other was booted with DANGEROUSLY_SKIP_FIREWALL.
 */
export function firewallCause(r: Readonly<ThopterRecord>): string {
  return r.machine?.provider === "local"
    ? "a local thopter shares the host's network: there is no firewall to apply"
    : "started with DANGEROUSLY_SKIP_FIREWALL=I_UNDERSTAND";
}

export function issueUrl(ctx: ViewContext, repo: string, issueNumber: number): string {
  return `${ctx.webUrl}/${repo}/issues/${issueNumber}`;
}

/** How much of the last report a row shows; the thopter's page has the whole timeline. */
const REPORT_SHOWN = 80;

/** When the thopter last reported, and what: the newest entry from its observer or broker. */
function lastReportCell(r: Readonly<ThopterRecord>, now: number): Html {
  const entry = r.timeline.findLast((e) => e.source !== "hub");
  if (!entry) return timeTag(r.lastReportAt, now);
  const words = activityText(entry);
  const text = words.length > REPORT_SHOWN ? `${words.slice(0, REPORT_SHOWN - 1)}…` : words;
  return html`${timeTag(r.lastReportAt ?? entry.at, now)} <small class="report" title="${words.slice(0, 2000)}">${text}</small>`;
}

export function csrfField(ctx: ViewContext): Html {
  return html`<input type="hidden" name="csrf" value="${ctx.csrf}">`;
}

/** Links to what exists on GitHub: the branch once the broker pushed it, the pull request once opened. */
function links(r: Readonly<ThopterRecord>, ctx: ViewContext): Html | string {
  const pr = safeUrl(r.pullRequestUrl);
  const branch = r.pushedAt ? html`<a href="${ctx.webUrl}/${r.repo}/tree/${r.branch}">branch</a>` : "";
  const prLink = pr ? html`<a href="${pr}">PR</a>` : "";
  if (!branch && !prLink) return html`<small>nothing pushed yet</small>`;
  return html`${branch}${branch && prLink ? " · " : ""}${prLink}`;
}

/** One thopter's row: the same markup on the page and in a live update, so the page can swap it in place. */
export function thopterRow(r: Readonly<ThopterRecord>, ctx: ViewContext): Html {
  const page = `/thopters/${encodeURIComponent(r.id)}`;
  const reason = reasonWords(r.stateReason);
  return html`<tr data-id="${r.id}" class="state-${r.state}">
<td data-label="thopter"><a href="${page}">${r.id}</a></td>
<td data-label="issue"><a href="${issueUrl(ctx, r.repo, r.issueNumber)}">#${r.issueNumber}</a> <span class="title">${r.issueTitle}</span></td>
<td data-label="repo">${r.repo}</td>
<td data-label="state"><span class="badge">${r.state}</span>${reason ? html` <small>${reason}</small>` : ""}${
    firewallSkipped(r) ? html` <span class="nofirewall" title="${firewallCause(r)}">no firewall</span>` : ""
  }</td>
<td data-label="in state">${timeTag(r.stateSince, ctx.now, "since")}</td>
<td data-label="last report">${lastReportCell(r, ctx.now)}</td>
<td data-label="links">${links(r, ctx)}</td>
<td data-label="cost">${costCell(r, ctx)}</td>
<td data-label="golden claude / prompt">${r.gc} / ${r.prompt}</td>
<td>${
    STOPPABLE(r.state)
      ? html`<form method="post" action="${page}/stop">${csrfField(ctx)}<button>stop</button></form>`
      : ""
  }</td>
</tr>`;
}

export const ROW_HEADINGS = html`<tr><th>thopter</th><th>issue</th><th>repo</th><th>state</th><th>in state</th><th>last report</th><th>links</th><th>cost</th><th>golden claude / prompt</th><th></th></tr>`;

/** Running or paused, capacity and warnings: the top of every page, refreshed live. */
export function statusBar(status: SwarmStatus, ctx: ViewContext): Html {
  const action = status.paused ? "resume" : "pause";
  return html`<span class="${status.paused ? "paused" : "running"}">${status.paused ? "Paused: no new thopters start" : "Running"}</span>
<form method="post" action="/${action}">${csrfField(ctx)}<button>${action}</button></form>
<span class="capacity">Capacity: ${status.active} / ${status.max} active</span>
${totalText(status.usage)}
${status.warnings.map((w) => html`<p class="warning">⚠ ${w}</p>`)}`;
}

export function activeCount(records: readonly Readonly<ThopterRecord>[]): number {
  return records.filter((r) => ACTIVE_STATES.includes(r.state)).length;
}

/** The queue shows its oldest requests; a longer queue says how many more wait. */
export const QUEUE_SHOWN = 50;

/** Requests not yet turned into thopters (queued or provisioning), oldest first. */
export function queueTable(requests: readonly ThopterRequest[], ctx: ViewContext): Html {
  const waiting = requests.filter((q) => q.state === "queued" || q.state === "provisioning");
  if (waiting.length === 0)
    return html`<p class="empty">No requests waiting: every <code>/thopter</code> command so far has a thopter.</p>`;
  return html`<div class="scroll"><table><tr><th>issue</th><th>requested by</th><th>command</th><th>state</th><th>waiting</th></tr>
${waiting.slice(0, QUEUE_SHOWN).map((q) => {
  const c = q.command;
  const what =
    c.kind === "start" ? `${c.count} × ${c.gc} / ${c.prompt}${c.instructions ? `: ${c.instructions}` : ""}` : "stop";
  return html`<tr><td><a href="${safeUrl(q.source.url) ?? issueUrl(ctx, q.source.repo, q.source.issueNumber)}">${q.source.repo}#${q.source.issueNumber}</a> <span class="title">${q.issueTitle}</span></td><td>${q.source.author}</td><td>${what}</td><td>${q.state}</td><td>${timeTag(q.createdAt, ctx.now, "since")}</td></tr>`;
})}</table></div>${waiting.length > QUEUE_SHOWN ? html`<p>…and ${waiting.length - QUEUE_SHOWN} more waiting.</p>` : ""}`;
}
