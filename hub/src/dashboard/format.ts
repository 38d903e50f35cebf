import { type Html, html } from "./html.js";

/** `42 s`, `5 min`, `3 h 2 min`, `2 d 4 h`: durations as the dashboard shows them (the browser keeps them fresh). */
export function ago(fromIso: string | undefined, now: number): string {
  if (!fromIso) return "—";
  const seconds = Math.max(0, Math.floor((now - Date.parse(fromIso)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** The repository's web address from the REST base: api.github.com → github.com, GHES `/api/v3` stripped. */
export function githubWebUrl(apiUrl: string): string {
  const url = new URL(apiUrl);
  if (url.hostname === "api.github.com") return "https://github.com";
  return `${url.origin}${url.pathname.replace(/\/api\/v3\/?$/, "").replace(/\/+$/, "")}`;
}

/** `2026-12-06 11:20:03 UTC`: the exact time, shown on hover. */
export function exactTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, " UTC");
}

/**
 * A time as people read it: how long ago (`3 min ago`, or for `since` the bare duration), the exact time on hover.
 * The page's script keeps the text fresh (`data-since`).
 */
export function timeTag(iso: string | undefined, now: number, style: "ago" | "since" = "ago"): Html {
  if (!iso) return html`—`;
  const text = style === "ago" ? `${ago(iso, now)} ago` : ago(iso, now);
  return html`<time datetime="${iso}" title="${exactTime(iso)}" data-since="${iso}"${style === "ago" ? html` data-ago` : ""}>${text}</time>`;
}
