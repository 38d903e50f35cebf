// The session log and boot log pages, served as-is (kept in TypeScript so the build carries them to dist/ without a copy step).

import { escapeHtml } from "./escape.js";

/** What differs between the session log page and the boot log page. */
interface PageShell {
  title: string;
  /** Which of the two pages this is, for the links between them. */
  page: "session" | "boot";
  /** The event stream, relative to the page. */
  events: string;
  /** What the page says until the first entry arrives. */
  waiting: string;
  /** A line above the log (the hub's archived copy says so, and until when it is kept). */
  notice?: string;
}

/** A page shell (assets relative to the server's root); entries arrive over SSE from `events`. */
function pageHtml({ title, page, events, waiting, notice }: PageShell): string {
  // Relative links: "./" from /boot-log is the session log, "boot-log" from either page is the boot log.
  const link = (href: string, text: string, current: boolean) =>
    `<a href="${href}"${current ? ' aria-current="page"' : ""}>${text}</a>`;
  const nav = `<nav>${link("./", "session log", page === "session")} · ${link("boot-log", "boot log", page === "boot")}</nav>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="style.css">
<script src="app.js" defer></script>
</head>
<body>
${nav}${notice ? `\n<p class="notice">${escapeHtml(notice)}</p>` : ""}
<main id="log" data-events="${escapeHtml(events)}" data-waiting="${escapeHtml(waiting)}"><p id="status">connecting…</p></main>
</body>
</html>
`;
}

/** The session log page, at `/` (its stream `events`), and the boot log's, at `/boot-log` (`boot-log/events`). */
export function logPages(notice?: string): { session: string; boot: string } {
  return {
    session: pageHtml({
      title: "Thopter session log",
      page: "session",
      events: "events",
      waiting: notice ? "no session was kept" : "waiting for the session to start…",
      notice,
    }),
    boot: pageHtml({
      title: "Thopter boot log",
      page: "boot",
      events: "boot-log/events",
      waiting: notice ? "no boot log was kept" : "waiting for boot to write its log…",
      notice,
    }),
  };
}

const LIVE_PAGES = logPages();
export const PAGE_HTML = LIVE_PAGES.session;
export const BOOT_PAGE_HTML = LIVE_PAGES.boot;

export const PAGE_CSS = `body { font: 14px/1.45 system-ui, sans-serif; margin: 0; background: #fafafa; color: #222; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
nav { max-width: 72rem; margin: 0 auto; padding: 0.6rem 1rem 0; font-size: 0.85rem; }
.notice { max-width: 70rem; margin: 0.6rem auto 0; padding: 0.4rem 1rem; background: #fff8c5; border: 1px solid #d4a72c; border-radius: 4px; }
nav a[aria-current] { color: inherit; font-weight: bold; text-decoration: none; }
section { margin-bottom: 2rem; }
section > h2 { font-size: 0.9rem; color: #555; position: sticky; top: 0; background: #fafafa; padding: 0.4rem 0; margin: 0; }
.totals { font-weight: normal; margin-left: 1rem; }
.entry { border-left: 3px solid #ccc; margin: 0.4rem 0; padding: 0.2rem 0.6rem; background: #fff; }
.entry header { font-size: 0.8rem; color: #666; }
.entry.user { border-color: #3a7; }
.entry.assistant { border-color: #37c; }
.entry.system, .entry.summary { border-color: #c93; }
.entry.meta { border-color: #eee; background: none; color: #999; padding-top: 0; padding-bottom: 0; }
.entry.raw { border-color: #c33; }
.entry.other { border-color: #eee; background: none; color: #999; padding-top: 0; padding-bottom: 0; }
.entry.other summary, .other-line summary { cursor: pointer; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0.3rem 0; background: #f3f3f3; padding: 0.3rem; max-height: 30rem; overflow: auto; }
.model, .usage { margin-left: 0.5rem; color: #888; }
.tool summary code { color: #444; }
.tool-name { font-weight: bold; }
.tool-result.error pre { background: #fdecec; }
.tool-result.pending { color: #999; font-style: italic; }
.result-ref { color: #999; font-size: 0.85rem; }
details.thinking summary { color: #888; font-style: italic; }
h3.boot-start { font-size: 0.85rem; color: #555; margin: 1rem 0 0.3rem; }
.entry.boot { padding-top: 0.1rem; padding-bottom: 0.1rem; }
.entry.boot header { display: inline; margin-right: 0.6rem; }
.entry.boot .text { display: inline; }
.entry.boot.started { color: #777; }
.entry.level-warn { border-color: #c93; }
.entry.level-error, .entry.level-fatal { border-color: #c33; background: #fdecec; }
.step { font-family: monospace; font-weight: bold; color: #333; }
.side { font-size: 0.75rem; color: #fff; background: #37c; border-radius: 3px; padding: 0 0.3rem; }
.ms { color: #37c; }
.offset { color: #999; }
.reason { color: #a22; white-space: pre-wrap; overflow-wrap: anywhere; }
.fields { font-size: 0.8rem; color: #555; }
.totals .failed { color: #c33; font-weight: bold; }
.totals .finished { color: #3a7; font-weight: bold; }
`;

/** Applies the server's `RenderOp`s (see render.ts, boot-render.ts) to the page as they stream in. */
export const PAGE_JS = `// Session and boot log pages: apply the server's render operations (see render.ts RenderOp) as they stream in over SSE.
"use strict";
const log = document.getElementById("log");
const { events: eventsPath, waiting } = log.dataset;
const status = document.getElementById("status");
const params = new URLSearchParams(location.search);
const token = params.get("token");
// The token came in the link once; the cookie (or this one connection URL) carries it from here, not the address bar.
if (token) history.replaceState(null, "", location.pathname);
const sections = new Map();

function section(key, title) {
  let s = sections.get(key);
  if (!s) {
    const el = document.createElement("section");
    const h = document.createElement("h2");
    h.textContent = title || "session";
    const totals = document.createElement("span");
    totals.className = "totals";
    h.append(totals);
    const body = document.createElement("div");
    el.append(h, body);
    log.append(el);
    s = { el, body, totals, slots: new Map(), groups: new Map() };
    sections.set(key, s);
  }
  return s;
}

function fragment(html) {
  const t = document.createElement("template");
  t.innerHTML = html;
  return t.content;
}

function apply(msg) {
  const s = section(msg.file, msg.title);
  for (const op of msg.ops) {
    if (op.op === "append") {
      const f = fragment(op.html);
      for (const slot of f.querySelectorAll("[data-slot]")) s.slots.set(slot.dataset.slot, slot);
      for (const group of f.querySelectorAll("[data-group]")) s.groups.set(group.dataset.group, group);
      s.body.append(f);
    } else if (op.op === "fill") {
      const slot = s.slots.get(op.id);
      if (slot) {
        slot.replaceWith(fragment(op.html));
        s.slots.delete(op.id);
      }
    } else if (op.op === "fold") {
      const group = s.groups.get(op.id);
      if (group) {
        group.querySelector(".folded").append(fragment(op.html));
        group.querySelector("summary").textContent = op.summary;
      }
    } else if (op.op === "totals") {
      s.totals.innerHTML = op.html;
    } else if (op.op === "reset") {
      s.body.replaceChildren();
      s.totals.replaceChildren();
      s.slots.clear();
      s.groups.clear();
    }
  }
}

const events = new EventSource(\`\${eventsPath}\${token ? \`?token=\${encodeURIComponent(token)}\` : ""}\`);
events.onopen = () => {
  // Every (re)connection starts with the full render: drop what an earlier connection showed.
  for (const s of sections.values()) s.el.remove();
  sections.clear();
  status.textContent = waiting;
  log.prepend(status);
};
events.onmessage = (e) => {
  status.remove();
  apply(JSON.parse(e.data));
};
events.onerror = () => {
  status.textContent = "disconnected; retrying…";
  log.prepend(status);
};
`;
