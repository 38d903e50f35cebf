// The terminal page, served as-is (kept in TypeScript so the build carries it to dist/ without a copy step).

/** The page shell; `readOnly` only changes what the page shows, the server drops a read-only viewer's keys anyway. */
export function pageHtml(readOnly: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Thopter terminal${readOnly ? " (read-only)" : ""}</title>
<link rel="stylesheet" href="xterm.css">
<link rel="stylesheet" href="terminal.css">
<script type="module" src="terminal.js"></script>
</head>
<body data-readonly="${readOnly}">
<div id="terminal"></div>
</body>
</html>
`;
}

export const PAGE_CSS = `html, body { height: 100%; margin: 0; background: #000; }
#terminal { position: absolute; inset: 0; padding: 4px; }
`;

/** Connects xterm.js to the server's WebSocket: keys and sizes go up as JSON, the pty's output comes down as text. */
export const PAGE_JS = `import { FitAddon } from "./addon-fit.mjs";
import { Terminal } from "./xterm.mjs";

const readOnly = document.body.dataset.readonly === "true";
const token = new URLSearchParams(location.search).get("token");
// The token came in the link once; the cookie (or this one connection URL) carries it from here, not the address bar.
if (token) history.replaceState(null, "", location.pathname);

const term = new Terminal({ cursorBlink: !readOnly, disableStdin: readOnly, scrollback: 5000 });
const fit = new FitAddon();
term.loadAddon(fit);
term.open(document.getElementById("terminal"));
fit.fit();
window.addEventListener("resize", () => fit.fit());

// Relative to the page, so the terminal also works behind a proxy that serves it under a path.
const url = new URL("ws", location.href);
url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
url.search = token ? \`?token=\${encodeURIComponent(token)}\` : "";
const ws = new WebSocket(url);
const send = (message) => {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
};
ws.onopen = () => {
  send({ t: "resize", cols: term.cols, rows: term.rows });
  term.focus();
};
ws.onmessage = (e) => term.write(e.data);
ws.onclose = (e) => term.write(\`\\r\\n\\x1b[31m[disconnected: \${e.reason || e.code}]\\x1b[0m\\r\\n\`);
term.onData((d) => send({ t: "in", d }));
term.onResize(({ cols, rows }) => send({ t: "resize", cols, rows }));
`;
