import type { Server } from "node:http";
import type { PriceTable } from "@thopter/protocol";
import type { Router } from "express";
import type { Logger } from "pino";
import type { HealthStatus } from "../http/routes/health.js";
import type { LogArchive } from "../logs/archive.js";
import { expiryMessages } from "../profiles/index.js";
import type { Stopper } from "../reaper/stop.js";
import type { Registry } from "../registry/index.js";
import type { RequestQueue } from "../requests/queue.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import type { DashboardAuth } from "./auth.js";
import { githubWebUrl } from "./format.js";
import { healthPanel } from "./health-panel.js";
import { LiveUpdates } from "./live.js";
import { dashboardRouter, status } from "./routes.js";
import { queueTable, statusBar, thopterRow, type ViewContext } from "./rows.js";
import type { ThopterViewers } from "./viewers.js";

export { DashboardAuth } from "./auth.js";
export { escapeHtml, Html, html } from "./html.js";
export { LIVE_PATH, type LiveMessage } from "./live.js";
export { machineViewers, type ThopterViewers, type ViewerKind, type ViewerServers } from "./viewers.js";

export const ISOLATION_OFF_WARNING =
  "Token isolation is off: the hub does not run as root, so thopters run as its user and an agent could read the push broker's GitHub token.";

export interface DashboardOptions {
  registry: Registry;
  queue: Pick<RequestQueue, "list">;
  scheduler: Pick<Scheduler, "isPaused" | "pause" | "resume">;
  stopper: Pick<Stopper, "stop">;
  /** Who may see and change the swarm (the dashboard token; shared with the hub's APIs). */
  auth: DashboardAuth;
  /** MAX_THOPTERS, GITHUB_API_URL, PROFILES_FILE (its expiry warnings), the price table (MODEL_PRICES_FILE). */
  config: {
    MAX_THOPTERS: number;
    GITHUB_API_URL: string;
    PROFILES_FILE?: string;
    prices: PriceTable;
  };
  /** One warning per failing part (store, GitHub per repository, provider) and per GitHub App problem, on every page. */
  healthWarnings?: () => string[];
  /** The hub's health by part, for the front page's panel (pushed live when it changes). */
  health?: () => HealthStatus;
  /** How often the health is checked for a change to push (default 1 s). */
  healthCheckMs?: number;
  /** The provider's `isolation`: "off" shows a warning on every page. */
  isolation?: "full" | "off";
  /** More warnings for every page, read on each render (the hub adds what it learns once it listens). */
  hostWarnings?: readonly string[];
  /** Where each thopter's terminal/session log/boot log is (with fresh tokens); without it those panels say so. */
  viewers?: ThopterViewers;
  /** The hub's copy of thopters' logs, shown after their machines are gone. */
  archive?: LogArchive;
  log: Logger;
  /** Live updates closer together than this are sent as one (default 50 ms). */
  coalesceMs?: number;
  /** How often open live sockets are pinged; one that misses a ping is dropped (default 30 s). */
  heartbeatMs?: number;
  /** How often the credential expiry warnings are worked out again (default hourly: they change by the day). */
  expiryCheckMs?: number;
  /** The clock the expiry warnings are worked out with (tests). */
  now?: () => Date;
}

export interface Dashboard {
  /** Pages and form actions, to mount on the hub's Express app. */
  router: Router;
  /** Serves live updates (WebSocket on /dashboard/live) on the hub's HTTP server. */
  attach(server: Server): void;
  /** Open live sockets (for /metrics and tests). */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * The dashboard on the hub's HTTP server: the swarm (`/`, paginated and filtered), each thopter (`/thopters/:id`,
 * with its terminal, session log, boot log and reports), stop/pause/resume forms, and live row updates over `ws`.
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const { config, registry, log, auth } = options;
  const host = options.hostWarnings ?? [];
  const isolation = options.isolation === "off" ? [ISOLATION_OFF_WARNING] : [];
  // Every page shows the current list: refreshed in place, so a credential nearing expiry shows up days ahead
  // however long the hub has run, and a renewed one's warning goes.
  const warnings: string[] = [];
  const now = options.now ?? (() => new Date());
  const checkExpiry = () =>
    warnings.splice(0, warnings.length, ...isolation, ...expiryMessages(config.PROFILES_FILE, now()));
  const allWarnings = () => [...warnings, ...host];
  checkExpiry();
  const expiryTimer = setInterval(checkExpiry, options.expiryCheckMs ?? 3_600_000).unref();
  const panel = (now: number) =>
    options.health && healthPanel({ health: options.health(), webUrl: githubWebUrl(config.GITHUB_API_URL), now });
  const deps = {
    ...options,
    panel,
    auth,
    maxThopters: config.MAX_THOPTERS,
    webUrl: githubWebUrl(config.GITHUB_API_URL),
    prices: config.prices,
    warnings: allWarnings,
    log: log.child({ component: "dashboard" }),
  };
  const live = new LiveUpdates({
    registry,
    auth,
    log: deps.log,
    coalesceMs: options.coalesceMs,
    heartbeatMs: options.heartbeatMs,
    async render(ids, queueChanged) {
      const ctx: ViewContext = { webUrl: deps.webUrl, now: Date.now(), csrf: "", prices: deps.prices };
      const rows = ids.flatMap((id) => {
        const record = registry.get(id);
        return record ? [{ id, html: thopterRow(record, ctx).value }] : [];
      });
      const queue = queueChanged ? queueTable(await options.queue.list(), ctx).value : undefined;
      const health = panel(ctx.now)?.value;
      return { rows, status: statusBar(status(deps), ctx).value, ...(queue === undefined ? {} : { queue }), health };
    },
  });
  // Health changes come from polls, webhooks and the store, not the registry: checked here, pushed when different.
  let lastHealth = JSON.stringify(options.health?.());
  const healthTimer = setInterval(() => {
    const now = JSON.stringify(options.health?.());
    if (now !== lastHealth) live.touch();
    lastHealth = now;
  }, options.healthCheckMs ?? 1000).unref();
  return {
    router: dashboardRouter(deps),
    attach: (server) => live.attach(server),
    get connections() {
      return live.connections;
    },
    close: () => {
      clearInterval(expiryTimer);
      clearInterval(healthTimer);
      return live.close();
    },
  };
}
