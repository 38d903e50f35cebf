import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { type AccessClaims, AccessDenied, type AccessScope, verifyAccessToken } from "./token.js";

/** How one server (terminal or session log) lets people in. */
export interface AccessPolicy {
  /** The per-thopter key the hub signs tokens with. */
  key: string | Buffer;
  /** Tokens minted for another thopter are refused. */
  thopterId: string;
  /** Scopes this server accepts. */
  scopes: readonly AccessScope[];
  /** Cookie that keeps the token after the first `?token=` visit; one name per server, since cookies ignore ports. */
  cookieName: string;
  /** Origins allowed to open WebSockets and send state-changing requests, besides the server's own (the hub's URL). */
  allowedOrigins: readonly string[];
}

/** A request that passed: its claims, and the token when it came in the query (so the caller can set the cookie). */
export interface Granted {
  claims: AccessClaims;
  queryToken?: string;
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function ownOrigin(req: IncomingMessage): string | undefined {
  const host = req.headers.host;
  if (!host) return undefined;
  const scheme = "encrypted" in req.socket && req.socket.encrypted ? "https" : "http";
  try {
    return new URL(`${scheme}://${host}`).origin;
  } catch {
    return undefined;
  }
}

/**
 * Whether the browser page that sent `req` may act here: no Origin header (not a browser), the server's own origin,
 * or one of `allowed`. DNS rebinding can fake "own origin", which is why every request also needs a token.
 */
export function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (origin === ownOrigin(req)) return true;
  return allowed.some((entry) => {
    try {
      return new URL(entry).origin === origin;
    } catch {
      return false;
    }
  });
}

/**
 * Checks a request against `policy`: a valid token (from `?token=` or the cookie) for this thopter and one of the
 * accepted scopes, and for WebSocket upgrades and anything but GET/HEAD an allowed Origin. Throws `AccessDenied`.
 */
export function authorize(policy: AccessPolicy, req: IncomingMessage): Granted {
  const stateChanging = req.headers.upgrade !== undefined || !["GET", "HEAD"].includes(req.method ?? "GET");
  if (stateChanging && !originAllowed(req, policy.allowedOrigins)) {
    throw new AccessDenied(403, `origin ${JSON.stringify(req.headers.origin)} is not allowed to connect here`);
  }
  const queryToken = new URL(req.url ?? "/", "http://x").searchParams.get("token") ?? undefined;
  const token = queryToken ?? cookie(req, policy.cookieName);
  if (!token) {
    throw new AccessDenied(401, "no access token: open this page through the link the hub gives you (?token=…)");
  }
  const claims = verifyAccessToken(policy.key, token);
  if (claims.thopterId !== policy.thopterId) {
    throw new AccessDenied(403, `this access token is for thopter ${claims.thopterId}, not ${policy.thopterId}`);
  }
  if (!policy.scopes.includes(claims.scope)) {
    throw new AccessDenied(
      403,
      `access token scope "${claims.scope}" does not allow this (needs ${policy.scopes.join(" or ")})`,
    );
  }
  return queryToken ? { claims, queryToken } : { claims };
}

/**
 * The cookie name for one server of one thopter. Cookies ignore ports, and local thopters share a host: without the
 * id, opening a second thopter's terminal would replace the first one's cookie.
 */
export function accessCookieName(server: "terminal" | "log", thopterId: string): string {
  return `thopter_${server}_${thopterId.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

/** `Set-Cookie` value keeping `token` until it expires: HttpOnly, SameSite=Strict, Secure over TLS. */
export function accessCookie(policy: AccessPolicy, granted: Granted, req: IncomingMessage): string | undefined {
  if (!granted.queryToken) return undefined;
  const maxAge = Math.max(0, granted.claims.exp - Math.floor(Date.now() / 1000));
  const secure = "encrypted" in req.socket && req.socket.encrypted ? "; Secure" : "";
  return `${policy.cookieName}=${granted.queryToken}; Max-Age=${maxAge}; Path=/; HttpOnly; SameSite=Strict${secure}`;
}

/** Answers a refused HTTP request with its status and reason as plain text. */
export function refuse(res: ServerResponse, denied: AccessDenied): void {
  res.writeHead(denied.status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
  res.end(`${denied.message}\n`);
}

/** Answers a refused WebSocket upgrade with an HTTP status line and reason, then closes the socket. */
export function refuseUpgrade(socket: Duplex, denied: AccessDenied): void {
  const reason = denied.status === 401 ? "Unauthorized" : "Forbidden";
  const body = `${denied.message}\n`;
  socket.end(
    `HTTP/1.1 ${denied.status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
