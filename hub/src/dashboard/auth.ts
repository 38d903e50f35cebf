import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { NextFunction, Request, Response } from "express";

const SESSION_COOKIE = "thopter_session";
const AUTH_COOKIE = "thopter_auth";
const UNAUTHORIZED =
  "this needs the dashboard token: send `Authorization: Bearer <token>`, or log in with the URL the hub printed at start";

function cookies(req: IncomingMessage): Map<string, string> {
  const found = new Map<string, string>();
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) found.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return found;
}

function same(a: string, b: string): boolean {
  // Hashing first makes the comparison constant-time whatever the lengths.
  const hash = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(hash(a), hash(b));
}

/** What the dashboard knows about one browser. */
export interface Visitor {
  session: string;
  /** The per-session token every POST form carries. */
  csrf: string;
  /** This session logged in with the dashboard token, or the request carries it as `Authorization: Bearer`. */
  authed: boolean;
}

/**
 * Who may see and change the swarm: the holder of the dashboard token, either as `Authorization: Bearer <token>`
 * (scripts, Prometheus) or through a browser session that logged in with it. Sessions have no server-side state: a
 * random session id in a cookie, and tokens derived from it with a per-process key (CSRF token, "logged in" proof);
 * a hub restart logs everyone out. Cookies are HttpOnly and SameSite=Strict (no other site's page or link carries
 * them), and every form POST also needs the CSRF token and an Origin of this hub.
 */
export class DashboardAuth {
  private readonly key = randomBytes(32);
  private readonly origins: string[];

  constructor(
    private readonly token: string,
    publicUrl: string,
  ) {
    if (token === "") throw new Error("the dashboard token must not be empty");
    this.origins = [new URL(publicUrl).origin];
  }

  private derive(purpose: string, session: string): string {
    return createHmac("sha256", this.key).update(`${purpose}:${session}`).digest("base64url");
  }

  /** The request carries `Authorization: Bearer <dashboard token>`. */
  bearer(req: IncomingMessage): boolean {
    const given = req.headers.authorization;
    return given !== undefined && same(given, `Bearer ${this.token}`);
  }

  /** Reads the visitor from its cookies; `undefined` session means the browser has none yet. */
  read(req: IncomingMessage): Visitor | undefined {
    const jar = cookies(req);
    const session = jar.get(SESSION_COOKIE);
    if (!session || !/^[A-Za-z0-9_-]{22}$/.test(session)) return undefined;
    const proof = jar.get(AUTH_COOKIE);
    const authed = (proof !== undefined && same(proof, this.derive("auth", session))) || this.bearer(req);
    return { session, csrf: this.derive("csrf", session), authed };
  }

  /** The request may see the swarm: a logged-in session or the bearer token. */
  allowed(req: IncomingMessage): boolean {
    return this.read(req)?.authed ?? this.bearer(req);
  }

  /** The visitor, with a new session cookie set when the browser has none. */
  visitor(req: Request, res: Response): Visitor {
    const known = this.read(req);
    if (known) return known;
    const session = randomBytes(16).toString("base64url");
    res.append("Set-Cookie", this.cookie(req, SESSION_COOKIE, session));
    return { session, csrf: this.derive("csrf", session), authed: this.bearer(req) };
  }

  /** True, and the login cookie set, when `candidate` is the dashboard token. */
  login(req: Request, res: Response, visitor: Visitor, candidate: unknown): boolean {
    if (typeof candidate !== "string" || !same(candidate, this.token)) return false;
    res.append("Set-Cookie", this.cookie(req, AUTH_COOKIE, this.derive("auth", visitor.session)));
    return true;
  }

  /** A browser may act here only from this hub's own pages (its Host, or HUB_PUBLIC_URL). */
  originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    const own = req.headers.host
      ? `${"encrypted" in req.socket && req.socket.encrypted ? "https" : "http"}://${req.headers.host}`
      : "";
    return origin === own || this.origins.includes(origin);
  }

  /** Express guard for POST actions: Origin, CSRF token and login, each refused with a reason. */
  guardPost = (req: Request, res: Response, next: NextFunction): void => {
    const visitor = this.read(req);
    const sent = (req.body as Record<string, unknown> | undefined)?.csrf;
    if (!this.originAllowed(req)) {
      res.status(403).type("text/plain").send("refused: this form was sent from another site\n");
    } else if (!visitor || typeof sent !== "string" || !same(sent, visitor.csrf)) {
      res
        .status(403)
        .type("text/plain")
        .send("refused: missing or stale CSRF token; reload the dashboard and try again\n");
    } else if (!visitor.authed) {
      res.status(401).type("text/plain").send("refused: log in with the dashboard token first\n");
    } else {
      next();
    }
  };

  /** Express guard for reading APIs (`/api/*`, `/metrics`): a logged-in session or the bearer token. */
  guardRead = (req: Request, res: Response, next: NextFunction): void => {
    if (this.allowed(req)) next();
    else res.status(401).json({ error: UNAUTHORIZED });
  };

  /**
   * Express guard for the JSON actions (`POST /api/…`): the bearer token only. A browser session acts through the
   * dashboard's forms, which carry a CSRF token; a cookie alone never changes anything.
   */
  guardAction = (req: Request, res: Response, next: NextFunction): void => {
    if (this.bearer(req)) next();
    else res.status(401).json({ error: "this action needs `Authorization: Bearer <dashboard token>`" });
  };

  private cookie(req: IncomingMessage, name: string, value: string): string {
    const secure = "encrypted" in req.socket && req.socket.encrypted ? "; Secure" : "";
    return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict${secure}`;
  }
}
