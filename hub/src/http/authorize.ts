import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";

export interface AuthorizeOptions {
  /** DASHBOARD_TOKEN: when set, every action needs `Authorization: Bearer <token>`. */
  token?: string;
  /**
   * Origins the hub itself serves pages from (its listen URL, HUB_PUBLIC_URL). Read per request: the listen port is
   * only known once the server is up.
   */
  ownOrigins: () => readonly string[];
}

/** Same length for any input, so the comparison takes the same time whatever the guess. */
const digest = (text: string) => createHash("sha256").update(text).digest();

/** `req.is()` answers null for a request without a body, and these actions need none: read the header itself. */
const isJson = (contentType = "") => contentType.split(";")[0]!.trim().toLowerCase() === "application/json";

/**
 * The check before the lifecycle actions (POST /api/pause, /api/resume, /api/thopters/:id/stop).
 * With DASHBOARD_TOKEN: the bearer token, compared in constant time. Without it: a JSON body from the hub's own
 * origin or from no browser at all (curl sends no Origin). A cross-site HTML form cannot send `application/json`,
 * and a cross-site `fetch` that does needs a CORS preflight the hub never grants, so another site cannot stop thopters.
 */
export function authorizeActions(options: AuthorizeOptions): RequestHandler {
  const expected = options.token ? digest(`Bearer ${options.token}`) : undefined;
  return (req, res, next) => {
    if (expected) {
      const given = req.get("authorization");
      if (given !== undefined && timingSafeEqual(digest(given), expected)) return next();
      res.status(401).json({ error: "this action needs `Authorization: Bearer <DASHBOARD_TOKEN>`" });
      return;
    }
    const origin = req.get("origin");
    if (origin !== undefined && !options.ownOrigins().includes(origin)) {
      res.status(403).json({ error: `requests from origin ${origin} may not change the hub; use the hub's own pages` });
      return;
    }
    if (!isJson(req.get("content-type"))) {
      res.status(415).json({
        error: "send these actions with `Content-Type: application/json` (or set DASHBOARD_TOKEN and send it)",
      });
      return;
    }
    next();
  };
}
