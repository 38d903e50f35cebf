import { costOf, type ThopterRecord, type TokenCounts } from "@thopter/protocol";
import {
  allTokens,
  costText,
  formatTokens,
  formatUsd,
  type UsageFigure,
  type UsageTotal,
  usageLine,
  usageView,
} from "../usage/view.js";
import { type Html, html } from "./html.js";
import type { ViewContext } from "./rows.js";

/** A row's cost: the shown figure, marked when the thopter's own report disagrees; the details on hover. */
export function costCell(r: Readonly<ThopterRecord>, ctx: ViewContext): Html {
  const view = usageView(r.usage, ctx.prices);
  if (!view) return html`<small>—</small>`;
  const mark = view.shown.source === "transcript" ? "reported" : "";
  return html`<span class="cost" title="${usageLine(view)}">${costText(view.shown)}</span>${
    mark ? html` <small>${mark}</small>` : ""
  }${view.disputed ? html` <span class="disputed">≠ ${costText(view.disputed)} reported</span>` : ""}`;
}

/** The status bar's total: what every listed thopter used, added up. */
export function totalText(total: UsageTotal): Html {
  if (total.counted === 0) return html``;
  const dollars = `${formatUsd(total.usd)}${total.unpriced ? " + unknown" : ""}`;
  return html`<span class="usage-total">Usage: <strong>${dollars}</strong> for ${total.counted} thopter${
    total.counted === 1 ? "" : "s"
  } (${formatTokens(allTokens(total.tokens))} tokens)</span>`;
}

const KINDS: ReadonlyArray<[keyof TokenCounts, string]> = [
  ["input", "input"],
  ["output", "output"],
  ["cacheRead", "cache read"],
  ["cacheWrite", "cache write"],
];

function figureTable(f: UsageFigure, ctx: ViewContext): Html {
  const rows = Object.entries(f.models).map(([model, counts]) => {
    const priced = f.unpriced.includes(model)
      ? "unknown (no price)"
      : formatUsd(costOf({ [model]: counts }, ctx.prices).usd);
    return html`<tr><td><code>${model}</code></td>${KINDS.map(([k]) => html`<td>${formatTokens(counts[k])}</td>`)}<td>${priced}</td></tr>`;
  });
  return html`<table class="usage" data-source="${f.source}"><caption>${costText(f)} · ${f.label}</caption>
<tr><th>model</th>${KINDS.map(([, label]) => html`<th>${label}</th>`)}<th>cost</th></tr>${rows}
<tr class="sum"><td>all models</td>${KINDS.map(([k]) => html`<td>${formatTokens(f.tokens[k])}</td>`)}<td>${costText(f)}</td></tr></table>`;
}

/** The thopter page's usage: tokens by kind and model with their cost; both figures when they disagree. */
export function usageSection(r: Readonly<ThopterRecord>, ctx: ViewContext): Html {
  const view = usageView(r.usage, ctx.prices);
  if (!view) return html`<p class="empty">No usage reported yet: it appears after Claude's first answer.</p>`;
  if (!view.disputed) return figureTable(view.shown, ctx);
  return html`<p class="warning">The thopter's own figure differs from the model proxy's count; the proxy's is the one to trust.</p>
${figureTable(view.shown, ctx)}${figureTable(view.disputed, ctx)}`;
}
