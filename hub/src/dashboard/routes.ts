import { type PriceTable, type ThopterRecord, ThopterState } from "@thopter/protocol";
import express, { type Request, type Response, type Router } from "express";
import type { Logger } from "pino";
import type { LogArchive } from "../logs/archive.js";
import type { Stopper } from "../reaper/stop.js";
import type { Registry } from "../registry/index.js";
import type { RequestQueue } from "../requests/queue.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import { usageTotal } from "../usage/view.js";
import { archiveNotice, archivePath, mountArchive } from "./archive.js";
import { SCRIPT, STYLE } from "./assets.js";
import type { DashboardAuth, Visitor } from "./auth.js";
import type { Html } from "./html.js";
import { loginPage, messagePage, reloadPage, swarmPage, thopterPage } from "./pages.js";
import { activeCount, firewallSkipped, type SwarmStatus, type ViewContext } from "./rows.js";
import type { ThopterViewers, ViewerKind } from "./viewers.js";

export interface DashboardRouteDeps {
  registry: Registry;
  queue: Pick<RequestQueue, "list">;
  scheduler: Pick<Scheduler, "isPaused" | "pause" | "resume">;
  stopper: Pick<Stopper, "stop">;
  auth: DashboardAuth;
  maxThopters: number;
  webUrl: string;
  prices: PriceTable;
  /** Every page's warnings, as of now. */
  warnings: () => readonly string[];
  /** The hub's failing parts (store, GitHub per repository, provider), as of now. */
  healthWarnings?: () => string[];
  /** The front page's health panel drawn at `now` (absent: no panel). */
  panel?: (now: number) => Html | undefined;
  viewers?: ThopterViewers;
  /** The hub's copy of thopters' logs: the thopter page shows it once the thopter's own servers are gone. */
  archive?: LogArchive;
  log: Logger;
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  // The terminal and session log are served by each thopter, on its own address.
  "frame-src http: https:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

function headers(res: Response): void {
  res.set({
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
  });
}

/** A same-site path to go back to after logging in (anything else goes to the swarm). */
function localPath(value: unknown): string {
  return typeof value === "string" && value.startsWith("/") && !value.startsWith("//") ? value : "/";
}

export function status(deps: DashboardRouteDeps): SwarmStatus {
  const records = deps.registry.list();
  const unguarded = records.filter((r) => r.state !== "gone" && firewallSkipped(r));
  const local = unguarded.filter((r) => r.machine?.provider === "local").length;
  const skipped = unguarded.length - local;
  const warnings = [...(deps.healthWarnings?.() ?? []), ...deps.warnings()];
  const runs = (n: number, what: string) => `${n} ${what}${n === 1 ? " runs" : "s run"}`;
  // Each cause in its own words: a local thopter's user never set DANGEROUSLY_SKIP_FIREWALL.
  if (local > 0) {
    warnings.push(
      `${runs(local, "local thopter")} without an egress firewall: a local thopter shares the host's network, so its ` +
        "agent can reach any address the host can. Use the Fly provider for a firewalled thopter. Rows marked “no firewall”.",
    );
  }
  if (skipped > 0) {
    warnings.push(
      `${runs(skipped, "thopter")} without the egress firewall (started with DANGEROUSLY_SKIP_FIREWALL=I_UNDERSTAND): ` +
        "those agents can reach any address. Rows marked “no firewall”.",
    );
  }
  return {
    paused: deps.scheduler.isPaused,
    active: activeCount(records),
    max: deps.maxThopters,
    warnings,
    usage: usageTotal(
      records.map((r) => r.usage),
      deps.prices,
    ),
  };
}

const VIEWER_PATHS: Record<string, ViewerKind> = { terminal: "terminal", log: "sessionLog", "boot-log": "bootLog" };

/** The dashboard's pages and form actions. Everything but the login form and the static files needs the dashboard token. */
export function dashboardRouter(deps: DashboardRouteDeps): Router {
  const { registry, auth } = deps;
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: "8kb" });
  const ctx = (visitor: Visitor): ViewContext => ({
    webUrl: deps.webUrl,
    now: Date.now(),
    csrf: visitor.csrf,
    prices: deps.prices,
  });

  router.get(["/dashboard/style.css", "/dashboard/app.js"], (req, res) => {
    res.set({ "cache-control": "no-cache", "x-content-type-options": "nosniff" });
    if (req.path.endsWith(".css")) res.type("text/css").send(STYLE);
    else res.type("text/javascript").send(SCRIPT);
  });

  router.post("/login", form, (req, res) => {
    headers(res);
    const visitor = auth.read(req);
    const next = localPath(req.body?.next);
    if (!auth.originAllowed(req) || !visitor || req.body?.csrf !== visitor.csrf) {
      res.status(403).type("text/plain").send("refused: reload the login page and try again\n");
    } else if (auth.login(req, res, visitor, req.body?.token)) {
      res.redirect(303, next);
    } else {
      res.status(401).send(loginPage(ctx(visitor), next, true));
    }
  });

  // Every page: a session; `?token=` logs in once and is dropped from the address; without a login, the login form.
  const page = (handler: (req: Request, res: Response, visitor: Visitor) => void | Promise<void>) => {
    return async (req: Request, res: Response) => {
      headers(res);
      const url = new URL(req.originalUrl, "http://x");
      if (req.get("sec-fetch-site") === "cross-site" && !url.searchParams.has("token") && !auth.allowed(req)) {
        // A link from elsewhere (a GitHub comment) arrives without the SameSite=Strict cookies; the page reloads
        // itself, and that same-site navigation carries them (no new session here: it would replace the browser's).
        res.status(401).send(reloadPage());
        return;
      }
      const visitor = auth.visitor(req, res);
      if (url.searchParams.has("token") && auth.login(req, res, visitor, url.searchParams.get("token"))) {
        url.searchParams.delete("token");
        res.redirect(303, url.pathname + url.search);
        return;
      }
      if (!visitor.authed) {
        res.status(401).send(loginPage(ctx(visitor), url.pathname, url.searchParams.has("token")));
        return;
      }
      await handler(req, res, visitor);
    };
  };

  router.get(
    "/",
    page(async (req, res, visitor) => {
      const state = ThopterState.safeParse(req.query.state).data;
      const repo = typeof req.query.repo === "string" && req.query.repo !== "" ? req.query.repo : undefined;
      const pageNumber = Math.max(1, Number.parseInt(String(req.query.page ?? "1"), 10) || 1);
      const all = registry.list();
      const matching = all
        .filter((r) => (!state || r.state === state) && (!repo || r.repo === repo))
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
      const view = {
        status: status(deps),
        health: deps.panel?.(Date.now()),
        requests: await deps.queue.list(),
        matching,
        total: all.length,
        repos: [...new Set(all.map((r) => r.repo))].sort(),
        states: ThopterState.options,
        query: { page: pageNumber, state, repo },
      };
      res.type("html").send(swarmPage(view, ctx(visitor)));
    }),
  );

  const find = (req: Request, res: Response, visitor: Visitor): Readonly<ThopterRecord> | undefined => {
    const record = registry.get(String(req.params.id));
    if (!record) {
      res.status(404).send(messagePage(ctx(visitor), "No such thopter", `There is no thopter ${req.params.id}.`));
    }
    return record;
  };

  router.get(
    "/thopters/:id",
    page(async (req, res, visitor) => {
      const record = find(req, res, visitor);
      if (!record) return;
      const has = (kind: ViewerKind) => deps.viewers?.(record, kind) !== undefined;
      const viewers = { terminal: has("terminal"), sessionLog: has("sessionLog"), bootLog: has("bootLog") };
      const info = await deps.archive?.info(record.id);
      const archived = info && { path: archivePath(record.id), notice: archiveNotice(record.id, info) };
      const rounds = registry
        .list()
        .filter((t) => t.repo === record.repo && t.branch === record.branch)
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      const view = { record, status: status(deps), viewers, archived, rounds };
      res.type("html").send(thopterPage(view, ctx(visitor)));
    }),
  );

  if (deps.archive) mountArchive(router, { archive: deps.archive, auth, log: deps.log, page });

  // Links in comments point here, never at a thopter: the token is minted only for someone logged in, when asked.
  router.get(
    "/thopters/:id/:viewer",
    page(async (req, res, visitor) => {
      const kind = VIEWER_PATHS[String(req.params.viewer)];
      const record = kind && find(req, res, visitor);
      if (!kind) {
        res.status(404).send(messagePage(ctx(visitor), "Not found", "Thopters have a terminal, a log and a boot-log."));
        return;
      }
      if (!record) return;
      const target = deps.viewers?.(record, kind);
      if (target) res.redirect(302, target);
      else if (kind !== "terminal" && (await deps.archive?.info(record.id)))
        res.redirect(302, archivePath(record.id) + (kind === "bootLog" ? "boot-log" : ""));
      else
        res
          .status(404)
          .send(
            messagePage(
              ctx(visitor),
              "Not available",
              `Thopter ${record.id} is ${record.state}: it has no ${String(req.params.viewer)} to show.`,
            ),
          );
    }),
  );

  router.post("/thopters/:id/stop", form, auth.guardPost, async (req, res) => {
    const id = String(req.params.id);
    if (!registry.get(id)) {
      res.status(404).type("text/plain").send(`no thopter ${id}\n`);
      return;
    }
    try {
      await deps.stopper.stop(id, "stopped from the dashboard");
    } catch (err) {
      deps.log.warn({ thopterId: id, err }, "dashboard stop did not finish; the reaper retries");
    }
    res.redirect(303, localPath(req.get("referer") ? new URL(req.get("referer")!, "http://x").pathname : "/"));
  });
  router.post("/pause", form, auth.guardPost, (_req, res) => {
    deps.scheduler.pause();
    res.redirect(303, "/");
  });
  router.post("/resume", form, auth.guardPost, (_req, res) => {
    deps.scheduler.resume();
    res.redirect(303, "/");
  });
  return router;
}
