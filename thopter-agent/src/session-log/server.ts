import type { IncomingMessage, ServerResponse } from "node:http";
import { accessCookieName, type Granted } from "../access/request.js";
import { type ListenOptions, listenGuarded, type RunningServer } from "../access/server.js";
import type { AccessClaims } from "../access/token.js";
import { streamSessionEvents } from "./events.js";
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from "./page.js";

export interface SessionLogServerOptions extends ListenOptions {
  /** The per-thopter key the hub signs access tokens with. */
  key: string | Buffer;
  thopterId: string;
  /** The hub's public URL (and any other origin that may embed the page). */
  allowedOrigins?: readonly string[];
  /** Claude Code's projects folder for the workspace, e.g. `~thopter/.claude/projects/-workspace-repo`. */
  dir: string;
  /** How often files are polled besides fs.watch; default 250 ms. */
  pollMs?: number;
  /** Pages open at once (each follows the files itself); more are refused with 503. Default 32. */
  maxViewers?: number;
}

const DEFAULT_MAX_VIEWERS = 32;

function send(res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, { "content-type": `${type}; charset=utf-8`, "cache-control": "no-store" });
  res.end(body);
}

/**
 * The live session log: `GET /?token=…` (scope `log`) serves the page, which streams the rendered transcripts from
 * `GET /events` and keeps receiving new entries as Claude writes them.
 */
export function startSessionLogServer(opts: SessionLogServerOptions): Promise<RunningServer> {
  const policy = {
    key: opts.key,
    thopterId: opts.thopterId,
    scopes: ["log"] as const,
    cookieName: accessCookieName("log", opts.thopterId),
    allowedOrigins: opts.allowedOrigins ?? [],
  };
  const maxViewers = opts.maxViewers ?? DEFAULT_MAX_VIEWERS;
  let viewers = 0;
  const events = (res: ServerResponse, claims: AccessClaims): void => {
    if (viewers >= maxViewers) {
      res.writeHead(503, { "content-type": "text/plain" }).end(`${maxViewers} viewers are connected already\n`);
      return;
    }
    viewers++;
    res.once("close", () => viewers--);
    streamSessionEvents(res, { dir: opts.dir, log: opts.log, pollMs: opts.pollMs, claims });
  };
  const request = (req: IncomingMessage, res: ServerResponse, { claims }: Granted): void => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("only GET is served here\n");
      return;
    }
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/") send(res, "text/html", PAGE_HTML);
    else if (path === "/style.css") send(res, "text/css", PAGE_CSS);
    else if (path === "/app.js") send(res, "text/javascript", PAGE_JS);
    else if (path === "/events" && req.method === "GET") events(res, claims);
    else res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  };
  return listenGuarded(policy, { request }, opts);
}
