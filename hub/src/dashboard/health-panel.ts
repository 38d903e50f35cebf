import type { HealthStatus, PartHealth } from "../http/routes/health.js";
import type { RepoHealth } from "../watcher/repo-health.js";
import { exactTime, timeTag } from "./format.js";
import { type Html, html } from "./html.js";

/** What the panel needs: the parts' health, GitHub's web address, and the time it is drawn at. */
export interface HealthView {
  health: HealthStatus;
  webUrl: string;
  now: number;
}

function stateCell(health: PartHealth, now: number): Html {
  const since =
    health.state !== "ok" && health.since ? html` <small>for ${timeTag(health.since, now, "since")}</small>` : "";
  return html`<span class="badge">${health.state}</span>${health.detail ? html` <span class="why">${health.detail}</span>` : ""}${since}`;
}

function budgetCell(r: RepoHealth): Html {
  if (!r.budget) return html`<span class="empty">not known yet</span>`;
  const { remaining, limit, resetAt } = r.budget;
  const title = resetAt ? `resets ${exactTime(resetAt)}` : "";
  return html`<span class="budget" title="${title}">${remaining} / ${limit}</span>`;
}

function repoRow(repo: string, r: RepoHealth, view: HealthView): Html {
  const lastPoll = r.lastPollAt ? timeTag(r.lastPollAt, view.now) : html`<span class="empty">none yet</span>`;
  // The rate-limited line says HH:MM; the exact time is on hover, as for every time on the page.
  const title = r.rateLimitedUntil ? `GitHub answers again at ${exactTime(r.rateLimitedUntil)}` : "";
  return html`<tr class="part-${r.state}" data-part="github" data-name="${repo}" data-problem="${r.problem ?? ""}">
<td>GitHub <a href="${view.webUrl}/${repo}">${repo}</a></td><td title="${title}">${stateCell(r, view.now)}</td><td>${lastPoll}</td><td>${budgetCell(r)}</td></tr>`;
}

function partRow(part: string, name: string, health: PartHealth, now: number): Html {
  return html`<tr class="part-${health.state}" data-part="${part}" data-name="${name}"><td>${name}</td><td>${stateCell(health, now)}</td><td></td><td></td></tr>`;
}

/**
 * The front page's health panel: each watched repository (state and why in words, last good poll, REST budget left),
 * then the store and the provider. Pushed to open dashboards whenever a part changes.
 */
export function healthPanel(view: HealthView): Html {
  const { health } = view;
  return html`<table class="health"><thead><tr><th>part</th><th>state</th><th>last good poll</th><th>rate limit left</th></tr></thead><tbody>
${Object.entries(health.github).map(([repo, r]) => repoRow(repo, r, view))}
${partRow("store", "store", health.store, view.now)}
${health.provider ? partRow("provider", `provider ${health.provider.kind}`, health.provider, view.now) : ""}</tbody></table>`;
}
