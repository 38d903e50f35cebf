import type { ServerResponse } from "node:http";
import { ownFiles } from "@thopter/agent/agent-files/index";
import { logPages, PAGE_CSS, PAGE_JS, streamBootLog, streamSessionEvents } from "@thopter/agent/session-log/index";
import type { Request, Response, Router } from "express";
import type { Logger } from "pino";
import type { ArchiveInfo, LogArchive } from "../logs/archive.js";
import type { DashboardAuth, Visitor } from "./auth.js";

/** An archived page's stream ends after this long (as a thopter's viewer token would): the page reconnects. */
const STREAM_MS = 8 * 3_600_000;

// The page runs the session-log server's own script and style (no inline code), framed by the thopter page only.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

export interface ArchiveRouteDeps {
  archive: LogArchive;
  auth: DashboardAuth;
  log: Logger;
  /** The dashboard's page wrapper: login, or the handler with the visitor. */
  page(
    handler: (req: Request, res: Response, visitor: Visitor) => Promise<void>,
  ): (req: Request, res: Response) => Promise<void>;
}

/** The archive's base path for a thopter's pages (the trailing slash matters: the pages link relative to it). */
export const archivePath = (thopterId: string) => `/thopters/${encodeURIComponent(thopterId)}/archive/`;

/** What the archived pages say above the log. */
export function archiveNotice(thopterId: string, info: ArchiveInfo): string {
  const until = info.keptUntil.toISOString().slice(0, 10);
  const capped = info.capped
    ? ` It reached the hub's size limit (LOG_ARCHIVE_MAX_MB) at ${info.capped.at}: what was written after that is not kept.`
    : "";
  return `Archived copy of thopter ${thopterId}'s logs, kept by the hub until ${until}.${capped}`;
}

/**
 * The hub's copy of each thopter's session log and boot log (`/thopters/:id/archive/`, `…/archive/boot-log`), there
 * after the machine is gone: the session-log server's pages, fed by its own renderers from the archived files, so
 * they read as they did while the thopter ran. Behind the dashboard token like every page.
 */
export function mountArchive(router: Router, deps: ArchiveRouteDeps): void {
  const { archive, auth, log } = deps;
  const base = "/thopters/:id/archive";
  const secure = (res: Response) =>
    res.set({ "content-security-policy": CSP, "x-content-type-options": "nosniff", "cache-control": "no-store" });

  const pageOf = (which: "session" | "boot") =>
    deps.page(async (req, res) => {
      const id = String(req.params.id);
      const info = await archive.info(id);
      if (!info) {
        res.status(404).type("text/plain").send(`the hub keeps no logs of thopter ${id}\n`);
        return;
      }
      if (which === "session" && !req.originalUrl.split("?")[0]!.endsWith("/")) {
        res.redirect(301, archivePath(id));
        return;
      }
      secure(res)
        .type("html")
        .send(logPages(archiveNotice(id, info))[which]);
    });
  router.get(`${base}/`, pageOf("session"));
  router.get(`${base}/boot-log`, pageOf("boot"));

  // Assets and streams: the page's own requests, so no login form, just 401 without a session.
  const guarded = (handler: (req: Request, res: Response) => Promise<void> | void) => (req: Request, res: Response) => {
    if (!auth.allowed(req)) {
      res.status(401).type("text/plain").send("log in to the dashboard first\n");
      return;
    }
    return handler(req, res);
  };
  router.get(
    `${base}/style.css`,
    guarded((_req, res) => void secure(res).type("text/css").send(PAGE_CSS)),
  );
  router.get(
    `${base}/app.js`,
    guarded((_req, res) => void secure(res).type("text/javascript").send(PAGE_JS)),
  );
  const stream = (which: "session" | "boot") =>
    guarded(async (req, res) => {
      const id = String(req.params.id);
      if (!(await archive.info(id))) {
        res.status(404).type("text/plain").send(`the hub keeps no logs of thopter ${id}\n`);
        return;
      }
      const claims = { thopterId: id, scope: "log" as const, exp: Math.floor((Date.now() + STREAM_MS) / 1000) };
      const common = { log, claims, res: res as ServerResponse };
      if (which === "boot") streamBootLog(common.res, { ...common, file: archive.bootLog(id) });
      else {
        const dir = archive.sessionsFolder(id);
        streamSessionEvents(common.res, { ...common, dir, rules: ownFiles(dir) });
      }
    });
  router.get(`${base}/events`, stream("session"));
  router.get(`${base}/boot-log/events`, stream("boot"));
}
