import type { ThopterRecord, ThopterRequest, ThopterState } from "@thopter/protocol";
import { timeTag } from "./format.js";
import { type Html, html } from "./html.js";
import {
  csrfField,
  issueUrl,
  queueTable,
  ROW_HEADINGS,
  type SwarmStatus,
  statusBar,
  thopterRow,
  type ViewContext,
} from "./rows.js";
import { REPORT_FILTER, reportsTable } from "./timeline.js";
import { usageSection } from "./usage.js";

export const PAGE_SIZE = 50;

function layout(
  title: string,
  ctx: ViewContext,
  body: Html,
  live: "swarm" | "thopter" | "none",
  thopterId = "",
): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf" content="${ctx.csrf}">
<title>${title} · Thopter Swarm</title><link rel="stylesheet" href="/dashboard/style.css"></head>
<body data-live="${live}" data-thopter="${thopterId}"><header><a href="/" class="home">Thopter Swarm</a><span id="live-dot" title="live updates">●</span></header>
${body}
<script src="/dashboard/app.js" defer></script></body></html>`.value;
}

export interface SwarmQuery {
  page: number;
  state?: ThopterState;
  repo?: string;
}

export interface SwarmView {
  status: SwarmStatus;
  /** The hub's health panel (each watched repository, the store, the provider). */
  health?: Html;
  requests: readonly ThopterRequest[];
  /** Every thopter matching the filters, newest first. */
  matching: readonly Readonly<ThopterRecord>[];
  total: number;
  repos: readonly string[];
  states: readonly ThopterState[];
  query: SwarmQuery;
}

function pageLink(query: SwarmQuery, page: number): string {
  const params = new URLSearchParams();
  if (query.state) params.set("state", query.state);
  if (query.repo) params.set("repo", query.repo);
  if (page > 1) params.set("page", String(page));
  const search = params.toString();
  return search ? `/?${search}` : "/";
}

function option(value: string, selected: string | undefined, label = value): Html {
  return html`<option value="${value}"${value === selected ? html` selected` : ""}>${label}</option>`;
}

export function swarmPage(view: SwarmView, ctx: ViewContext): string {
  const { query } = view;
  const pages = Math.max(1, Math.ceil(view.matching.length / PAGE_SIZE));
  const page = Math.min(query.page, pages);
  const shown = view.matching.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  const filtered = query.state !== undefined || query.repo !== undefined;
  let table: Html;
  if (view.total === 0) {
    table = html`<p class="empty">No thopters yet. Write <code>/thopter</code> in a comment on an issue of a configured repository and one starts here.</p>`;
  } else if (shown.length === 0) {
    table = html`<p class="empty">No thopters match these filters. <a href="/">Show all</a></p>`;
  } else {
    table = html`<table id="thopters"><thead>${ROW_HEADINGS}</thead><tbody>${shown.map((r) => thopterRow(r, ctx))}</tbody></table>`;
  }
  const live = page === 1 && !filtered ? "swarm" : "none";
  return layout(
    "Swarm",
    ctx,
    html`<section id="status">${statusBar(view.status, ctx)}</section>
${view.health ? html`<section><h2>Hub health</h2><div id="health" class="scroll">${view.health}</div></section>` : ""}
<section><h2>Request queue</h2><div id="queue">${queueTable(view.requests, ctx)}</div></section>
<section><h2>Thopters <small>${view.matching.length} of ${view.total}</small></h2>
<form method="get" action="/" class="filters">
<label>state <select name="state">${option("", query.state, "any")}${view.states.map((s) => option(s, query.state))}</select></label>
<label>repository <select name="repo">${option("", query.repo, "any")}${view.repos.map((r) => option(r, query.repo))}</select></label>
<button>filter</button></form>
${table}
${
  pages > 1
    ? html`<nav class="pages">${page > 1 ? html`<a href="${pageLink(query, page - 1)}" rel="prev">← newer</a>` : ""} page ${page} of ${pages} ${
        page < pages ? html`<a href="${pageLink(query, page + 1)}" rel="next">older →</a>` : ""
      }</nav>`
    : ""
}</section>`,
    // Live rows patch in place everywhere; new thopters are added only where they belong (first page, no filter).
    live === "swarm" ? "swarm" : "thopter",
  );
}

export interface ThopterView {
  record: Readonly<ThopterRecord>;
  status: SwarmStatus;
  /** Whether the thopter's terminal and session-log servers can be reached (a machine, not gone). */
  viewers: { terminal: boolean; sessionLog: boolean; bootLog: boolean };
  /** The hub's copy of its logs (`path`, ending in `/`), shown when the thopter's own servers are gone. */
  archived?: { path: string; notice: string };
  /** Every thopter that worked on this branch (follow-ups on its PR), oldest first: the PR's rounds. */
  rounds?: readonly Readonly<ThopterRecord>[];
}

function roundsList(view: ThopterView): Html | string {
  const rounds = view.rounds ?? [];
  if (rounds.length < 2) return "";
  const item = (t: Readonly<ThopterRecord>, i: number) =>
    t.id === view.record.id
      ? html`<li><b>round ${i + 1}: ${t.id}</b> (this one, ${t.state})</li>`
      : html`<li>round ${i + 1}: <a href="/thopters/${encodeURIComponent(t.id)}">${t.id}</a> (${t.state}, #${t.issueNumber})</li>`;
  return html`<dt>rounds</dt><dd><ol id="rounds">${rounds.map(item)}</ol></dd>`;
}

export function thopterPage(view: ThopterView, ctx: ViewContext): string {
  const r = view.record;
  const base = `/thopters/${encodeURIComponent(r.id)}`;
  let noMachine = "This thopter has no machine yet: the terminal and session log appear once it boots.";
  if (r.state === "gone" || r.state === "stopping") {
    noMachine = view.archived
      ? "This thopter has stopped: its machine is gone, so there is no live terminal. The hub kept its logs (below)."
      : "This thopter has stopped: its machine is gone, so there is no live terminal or session log.";
  } else if (r.machine) {
    noMachine = `The hub cannot open this thopter's servers (machine ${r.machine.id} has no address it can reach, or the hub holds no access key for it).`;
  }
  const { archived } = view;
  const frame = (on: boolean, path: string, title: string) =>
    on ? html`<iframe src="${base}/${path}" title="${title}"></iframe>` : html`<p class="empty">${noMachine}</p>`;
  // Without the thopter's own server, the hub's copy (the terminal has none: it was live only).
  const sessionLog =
    !view.viewers.sessionLog && archived
      ? html`<p class="archived">${archived.notice}</p><iframe src="${archived.path}" title="session log (archived)"></iframe>`
      : frame(view.viewers.sessionLog, "log", "session log");
  let bootLog = html`<p class="empty">No boot log available for this thopter.</p>`;
  if (view.viewers.bootLog) bootLog = html`<a href="${base}/boot-log">open the boot log</a>`;
  else if (archived) bootLog = html`<a href="${archived.path}boot-log">open the archived boot log</a>`;
  return layout(
    r.id,
    ctx,
    html`<section id="status">${statusBar(view.status, ctx)}</section>
<h1>${r.id} <small>on <a href="${issueUrl(ctx, r.repo, r.issueNumber)}">${r.repo}#${r.issueNumber}</a> <span class="title">${r.issueTitle}</span></small></h1>
<table id="thopters"><thead>${ROW_HEADINGS}</thead><tbody>${thopterRow(r, ctx)}</tbody></table>
<dl><dt>branch</dt><dd><code>${r.branch}</code></dd><dt>created</dt><dd>${timeTag(r.createdAt, ctx.now)}</dd>
<dt>machine</dt><dd>${r.machine ? `${r.machine.provider} ${r.machine.id}` : "none"}</dd>
${roundsList(view)}${r.summary ? html`<dt>summary</dt><dd class="summary">${r.summary}</dd>` : ""}</dl>
<section><h2>Usage</h2><div id="usage">${usageSection(r, ctx)}</div></section>
<section><h2>Terminal</h2>${frame(view.viewers.terminal, "terminal", "terminal")}</section>
<section><h2>Session log</h2>${sessionLog}</section>
<section><h2>Boot log</h2>${bootLog}</section>
<section><h2>Reports</h2>${REPORT_FILTER}<div id="reports">${reportsTable(r.timeline, ctx.now)}</div></section>`,
    "thopter",
    r.id,
  );
}

export function loginPage(ctx: ViewContext, next: string, failed: boolean): string {
  return layout(
    "Log in",
    ctx,
    html`<section class="login"><h1>Log in</h1>
<p>This dashboard needs its token: <code>DASHBOARD_TOKEN</code> in the hub's configuration or, without it, the one the hub generated; the login URL the hub prints at start carries it.</p>
${failed ? html`<p class="warning">That token is not right.</p>` : ""}
<form method="post" action="/login">${csrfField(ctx)}<input type="hidden" name="next" value="${next}">
<label>token <input type="password" name="token" autocomplete="current-password" autofocus></label> <button>log in</button></form></section>`,
    "none",
  );
}

export function messagePage(ctx: ViewContext, title: string, text: string): string {
  return layout(
    title,
    ctx,
    html`<section><h1>${title}</h1><p class="empty">${text}</p><p><a href="/">Back to the swarm</a></p></section>`,
    "none",
  );
}

/**
 * Answers a link followed from another site: the browser sent no SameSite=Strict cookie with it, and sends them when
 * the page reloads itself (a same-site navigation). No script: the dashboard's CSP forbids inline code.
 */
export function reloadPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0"><title>Thopter Swarm</title></head>
<body><p>Opening the dashboard…</p></body></html>`;
}
