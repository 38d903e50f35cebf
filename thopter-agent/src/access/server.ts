import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { type Listening, listenHttp } from "@thopter/protocol/listen";
import type { Logger } from "pino";
import { type AccessPolicy, accessCookie, authorize, type Granted, refuse, refuseUpgrade } from "./request.js";
import { AccessDenied } from "./token.js";

/** What a guarded server does with requests that passed the access check. */
export interface GuardedRoutes {
  request(req: IncomingMessage, res: ServerResponse, granted: Granted): void;
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer, granted: Granted): void;
}

export interface ListenOptions {
  /** Interface to bind; `::` reaches Fly's private network. Default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  log: Logger;
}

/** A running server: its base URL and a `close()` that ends open connections too. */
export type RunningServer = Listening;

function origin(entry: string): string {
  try {
    return new URL(entry).origin;
  } catch {
    throw new Error(
      `allowed origin ${JSON.stringify(entry)} is not a URL; give the hub's public URL, e.g. https://hub.example.com`,
    );
  }
}

/** Headers on every answer: no token leaks through Referer, only this origin's scripts run, only the hub may frame. */
function securityHeaders(policy: AccessPolicy): Record<string, string> {
  const ancestors = ["'self'", ...policy.allowedOrigins.map(origin)].join(" ");
  return {
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "content-security-policy": `default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors ${ancestors}`,
  };
}

/**
 * An HTTP server where every request and WebSocket upgrade first passes `authorize(policy, …)`: refused ones get a
 * 401/403 with the reason, the first visit with `?token=` also gets the access cookie. Logs never carry a token.
 */
export function listenGuarded(
  policy: AccessPolicy,
  routes: GuardedRoutes,
  opts: ListenOptions,
): Promise<RunningServer> {
  const headers = securityHeaders(policy);
  const check = (req: IncomingMessage): Granted | AccessDenied => {
    try {
      return authorize(policy, req);
    } catch (err) {
      if (err instanceof AccessDenied) {
        opts.log.warn({ status: err.status, reason: err.message, path: req.url?.split("?")[0] }, "access refused");
        return err;
      }
      throw err;
    }
  };
  const server = createServer((req, res) => {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    const granted = check(req);
    if (granted instanceof AccessDenied) {
      refuse(res, granted);
      return;
    }
    const setCookie = accessCookie(policy, granted, req);
    if (setCookie) res.setHeader("set-cookie", setCookie);
    routes.request(req, res, granted);
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const granted = check(req);
    if (granted instanceof AccessDenied) return refuseUpgrade(socket, granted);
    if (!routes.upgrade)
      return refuseUpgrade(socket, new AccessDenied(403, "this server takes no WebSocket connections"));
    routes.upgrade(req, socket, head, granted);
  });
  return listenHttp(server, opts.port ?? 0, opts.host ?? "127.0.0.1");
}
