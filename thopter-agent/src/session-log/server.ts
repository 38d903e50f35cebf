import type { IncomingMessage, ServerResponse } from "node:http";
import { accessCookieName, type Granted } from "../access/request.js";
import { type ListenOptions, listenGuarded, type RunningServer } from "../access/server.js";
import type { AccessClaims } from "../access/token.js";
import { ownFiles } from "../agent-files/index.js";
import { LAYOUT } from "../boot/layout.js";
import { streamBootLog, streamSessionEvents } from "./events.js";
import { BOOT_PAGE_HTML, PAGE_CSS, PAGE_HTML, PAGE_JS } from "./page.js";

export interface SessionLogServerOptions extends ListenOptions {
  /** The per-thopter key the hub signs access tokens with. */
  key: string | Buffer;
  thopterId: string;
  /** The hub's public URL (and any other origin that may embed the page). */
  allowedOrigins?: readonly string[];
  /** Claude Code's projects folder for the workspace, e.g. `~thopter/.claude/projects/-workspace-repo`. */
  dir: string;
  /**
   * Transcripts are the agent's files, read here as root: only regular files owned by `owner` (default this process's
   * uid) whose real path lies inside `within` (default `dir`; boot gives the agent's home) are shown.
   */
  owner?: number;
  within?: string;
  /** The boot log (JSON lines) shown at `/boot-log`; default the machine's (`/var/log/thopter/boot.log` under THOPTER_FS_ROOT). */
  bootLog?: string;
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
 * `GET /events` and keeps receiving new entries as Claude writes them. `GET /boot-log?token=…` is the boot log the same
 * way (its steps, timings and failures, live while boot runs), streamed from `GET /boot-log/events`.
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
  const bootLog = opts.bootLog ?? LAYOUT.bootLog;
  const transcripts = { owner: opts.owner ?? ownFiles(opts.dir).owner, within: opts.within ?? opts.dir };
  const events = (res: ServerResponse, claims: AccessClaims, what: "sessions" | "boot"): void => {
    if (viewers >= maxViewers) {
      res.writeHead(503, { "content-type": "text/plain" }).end(`${maxViewers} viewers are connected already\n`);
      return;
    }
    viewers++;
    res.once("close", () => viewers--);
    const common = { log: opts.log, pollMs: opts.pollMs, claims };
    if (what === "boot") streamBootLog(res, { ...common, file: bootLog });
    else streamSessionEvents(res, { ...common, dir: opts.dir, rules: transcripts });
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
    else if (path === "/boot-log") send(res, "text/html", BOOT_PAGE_HTML);
    else if (path === "/events" && req.method === "GET") events(res, claims, "sessions");
    else if (path === "/boot-log/events" && req.method === "GET") events(res, claims, "boot");
    else res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  };
  return listenGuarded(policy, { request }, opts);
}
