import type { IncomingMessage, ServerResponse } from "node:http";
import { WebSocketServer } from "ws";
import { type AccessPolicy, accessCookieName, type Granted } from "../access/request.js";
import { type ListenOptions, listenGuarded, type RunningServer } from "../access/server.js";
import { loadAssets } from "./assets.js";
import type { RunAs } from "./attach.js";
import { serveTerminal } from "./connection.js";
import { pageHtml } from "./page.js";

export interface TerminalServerOptions extends ListenOptions {
  /** The per-thopter key the hub signs access tokens with. */
  key: string | Buffer;
  thopterId: string;
  /** The hub's public URL (and any other origin whose pages may connect). */
  allowedOrigins?: readonly string[];
  /** tmux session to attach to; default `thopter`. */
  session?: string;
  /** tmux server socket (`tmux -S`); default: the agent user's default socket. */
  tmuxSocket?: string;
  /**
   * Attach as the agent user. The server may run as root (it holds the hub's key, a root-only file) and still give
   * viewers only the agent's tmux; without `runAs` it attaches as whoever runs it.
   */
  runAs?: RunAs;
  /** The environment tmux attaches with (PATH; HOME and USER without `runAs`), from the entry point. */
  env: NodeJS.ProcessEnv;
  /** Connections open at once; more are refused with 503. Default 16. */
  maxViewers?: number;
}

const MAX_MESSAGE_BYTES = 1 << 20;
/** Each viewer costs a pty and a tmux client: a leaked link cannot open more than this many at once. */
const DEFAULT_MAX_VIEWERS = 16;
const SESSION_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * The web terminal: `GET /?token=…` serves xterm.js, whose WebSocket (`/ws`) gets its own pty running `tmux attach`.
 * Scope `terminal` may type; `terminal:ro` watches (keys dropped here, tmux attached read-only). The upgrade needs the
 * token and an allowed Origin.
 */
export async function startTerminalServer(opts: TerminalServerOptions): Promise<RunningServer> {
  const policy: AccessPolicy = {
    key: opts.key,
    thopterId: opts.thopterId,
    scopes: ["terminal", "terminal:ro"],
    cookieName: accessCookieName("terminal", opts.thopterId),
    allowedOrigins: opts.allowedOrigins ?? [],
  };
  const session = opts.session ?? "thopter";
  if (!SESSION_NAME.test(session)) {
    throw new Error(`tmux session name ${JSON.stringify(session)} is invalid: use letters, digits, _ and - only`);
  }
  const maxViewers = opts.maxViewers ?? DEFAULT_MAX_VIEWERS;
  const assets = loadAssets();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const log = opts.log.child({ component: "terminal" });

  const request = (req: IncomingMessage, res: ServerResponse, { claims }: Granted): void => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const asset =
      path === "/" ? { type: "text/html", body: pageHtml(claims.scope === "terminal:ro") } : assets.get(path);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("only GET is served here\n");
    } else if (!asset) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    } else {
      res
        .writeHead(200, { "content-type": `${asset.type}; charset=utf-8`, "cache-control": "no-store" })
        .end(asset.body);
    }
  };

  const running = await listenGuarded(
    policy,
    {
      request,
      upgrade: (req, socket, head, { claims }) => {
        if (new URL(req.url ?? "/", "http://x").pathname !== "/ws") {
          socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
          return;
        }
        if (wss.clients.size >= maxViewers) {
          log.warn({ maxViewers }, "terminal: too many viewers");
          socket.end(
            `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n${maxViewers} viewers are connected already\n`,
          );
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
          const readOnly = claims.scope === "terminal:ro";
          log.info({ readOnly }, "terminal: viewer connected");
          serveTerminal(
            ws,
            { session, socket: opts.tmuxSocket, readOnly, runAs: opts.runAs, env: opts.env },
            claims,
            log,
          );
        });
      },
    },
    opts,
  );
  return {
    ...running,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await running.close();
    },
  };
}
