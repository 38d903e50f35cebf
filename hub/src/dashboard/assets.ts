/** The dashboard's stylesheet and script, served as files so the page's CSP can forbid inline code. */

export const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5rem 2rem; color: #1d2430; background: #fafbfc; }
header { display: flex; gap: .5rem; align-items: center; padding: .8rem 0; border-bottom: 1px solid #dde2e8; }
header .home { font-weight: 700; font-size: 1.2rem; color: inherit; text-decoration: none; }
#live-dot { color: #b0b7c0; font-size: .8rem; } #live-dot.on { color: #2da44e; }
#status { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; margin: .8rem 0; }
#status form { display: inline; } .running { color: #1a7f37; font-weight: 600; } .paused { color: #bc4c00; font-weight: 600; }
.warning { flex-basis: 100%; margin: 0; padding: .4rem .6rem; background: #fff8c5; border: 1px solid #d4a72c; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { font-weight: 600; color: #57606a; font-size: .85rem; }
td form { margin: 0; } .title { color: #57606a; } small { color: #57606a; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 1rem; background: #eaeef2; font-weight: 600; }
.state-working .badge, .state-booting .badge { background: #ddf4ff; color: #0969da; }
.state-done .badge { background: #dafbe1; color: #1a7f37; } .state-blocked .badge, .state-waiting .badge { background: #fff8c5; color: #9a6700; }
.state-failed .badge { background: #ffebe9; color: #cf222e; } .state-gone .badge, .state-stopping .badge { color: #8c959f; }
tr.flash { animation: flash 1.2s ease-out; } @keyframes flash { from { background: #fff8c5; } to { background: #fff; } }
.nofirewall { color: #cf222e; font-weight: 600; font-size: .8rem; }
.empty { color: #57606a; font-style: italic; } .filters { margin: .5rem 0; } .pages { margin: .6rem 0; }
iframe { width: 100%; height: 28rem; border: 1px solid #d0d7de; border-radius: 4px; background: #0d1117; }
.summary, .message { white-space: pre-wrap; } dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
td, dd, h1 { overflow-wrap: break-word; } .message, .report, .title, code { overflow-wrap: anywhere; }
button, .timeline td:nth-child(-n+2) { white-space: nowrap; } .scroll { overflow-x: auto; max-width: 100%; } .took { color: #8c959f; }
.health td { white-space: nowrap; } .health td:nth-child(2) { white-space: normal; }
.part-failing .badge, .part-lost .badge { background: #ffebe9; color: #cf222e; } .part-ok .badge { background: #dafbe1; color: #1a7f37; }
.cost { font-variant-numeric: tabular-nums; white-space: nowrap; } .disputed { color: #cf222e; font-size: .8rem; white-space: nowrap; }
.usage-total strong { font-variant-numeric: tabular-nums; } table.usage { width: auto; margin: .3rem 0 .8rem; }
table.usage caption { text-align: left; font-weight: 600; padding: .2rem 0; } table.usage td:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
table.usage tr.sum td { font-weight: 600; border-top: 1px solid #d0d7de; }
time[title] { text-decoration: underline dotted #b0b7c0; cursor: help; }
/* A phone: each thopter becomes a card, labelled cell by cell; other tables scroll inside their own box. */
@media (max-width: 700px) {
  body { margin: 0 .6rem 1.5rem; }
  #thopters, #thopters tbody, #thopters tr, #thopters td { display: block; }
  #thopters thead { display: none; }
  #thopters tr { border: 1px solid #d0d7de; border-radius: 6px; margin: .5rem 0; padding: .3rem 0; }
  #thopters td { border: 0; padding: .15rem .6rem; }
  #thopters td[data-label]::before { content: attr(data-label); display: inline-block; min-width: 6.5rem; margin-right: .4rem; font-size: .75rem; color: #57606a; }
  dl { grid-template-columns: 1fr; } dd { margin: 0 0 .4rem; } iframe { height: 20rem; }
}
`;

/**
 * Live updates: a WebSocket to /dashboard/live delivers changed rows (already rendered by the server) that replace
 * the row with the same data-id; new thopters are added on the unfiltered first page. Times tick in the browser.
 */
export const SCRIPT = `(() => {
  const csrf = document.querySelector('meta[name="csrf"]').content;
  const mode = document.body.dataset.live;
  const dot = document.getElementById("live-dot");
  const fmt = (iso) => {
    const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) return s + " s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + " min";
    const h = Math.floor(m / 60);
    return h < 48 ? h + " h " + (m % 60) + " min" : Math.floor(h / 24) + " d " + (h % 24) + " h";
  };
  const tick = () => document.querySelectorAll("time[data-since]").forEach((t) => {
    t.textContent = fmt(t.dataset.since) + (t.hasAttribute("data-ago") ? " ago" : "");
  });
  // The reports filter hides the rows it excludes (again after each live refresh of the table).
  const filter = document.getElementById("report-filter");
  const applyFilter = () => {
    if (!filter) return;
    const source = filter.elements.source.value;
    const kind = filter.elements.kind.value;
    document.querySelectorAll("#reports tr[data-source]").forEach((tr) => {
      tr.hidden = (source !== "" && tr.dataset.source !== source) || (kind !== "" && tr.dataset.kind !== kind);
    });
  };
  filter?.addEventListener("change", applyFilter);
  filter?.addEventListener("submit", (e) => e.preventDefault());
  setInterval(tick, 5000);
  const fragment = (markup, wrapper) => {
    const t = document.createElement("template");
    t.innerHTML = wrapper ? "<table><tbody>" + markup + "</tbody></table>" : markup;
    t.content.querySelectorAll('input[name="csrf"]').forEach((i) => { i.value = csrf; });
    return wrapper ? t.content.querySelector("tr") : t.content;
  };
  // The reports timeline is long; it is fetched again (once at a time) when this thopter changes.
  let refreshing = false;
  const refreshReports = async () => {
    if (refreshing) return;
    refreshing = true;
    try {
      const page = new DOMParser().parseFromString(await (await fetch(location.href)).text(), "text/html");
      const fresh = page.getElementById("reports");
      if (fresh) document.getElementById("reports").replaceWith(document.adoptNode(fresh));
      applyFilter();
    } finally {
      refreshing = false;
    }
  };
  const apply = (msg) => {
    for (const { id, html } of msg.rows || []) {
      const row = fragment(html, true);
      const old = [...document.querySelectorAll("tr[data-id]")].find((r) => r.dataset.id === id);
      if (old) old.replaceWith(row);
      else if (mode === "swarm") {
        let body = document.querySelector("#thopters tbody");
        if (!body) { location.reload(); return; }
        body.prepend(row);
      } else continue;
      row.classList.add("flash");
    }
    if (mode === "thopter" && (msg.rows || []).some((r) => r.id === document.body.dataset.thopter)) refreshReports();
    if (msg.status) document.getElementById("status").replaceChildren(fragment(msg.status, false));
    const queue = document.getElementById("queue");
    if (msg.queue && queue) queue.replaceChildren(fragment(msg.queue, false));
    const health = document.getElementById("health");
    if (msg.health && health) health.replaceChildren(fragment(msg.health, false));
  };
  if (mode === "none") return;
  const connect = () => {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/dashboard/live");
    ws.onopen = () => dot.classList.add("on");
    ws.onmessage = (e) => apply(JSON.parse(e.data));
    ws.onclose = () => { dot.classList.remove("on"); setTimeout(connect, 2000); };
  };
  connect();
})();
`;
