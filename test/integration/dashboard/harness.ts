import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDashboard, type Dashboard, DashboardAuth, type DashboardOptions } from "@thopter/hub/dashboard/index";
import { createApp } from "@thopter/hub/http/app";
import { Registry } from "@thopter/hub/registry/index";
import { RequestQueue } from "@thopter/hub/requests/queue";
import { openStore, type Store } from "@thopter/hub/store/index";
import { DEFAULT_PRICES, type ThopterState } from "@thopter/protocol";
import { pino } from "pino";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll } from "vitest";
import { launchBrowser } from "../../helpers/browser.js";

export const REPO = "acme/widgets";
/** The dashboard token of every test dashboard. */
export const TOKEN = "dashboard-token-for-tests-8c1f";
export const BEARER = { authorization: `Bearer ${TOKEN}` };
const log = pino({ level: "silent" });

/** A dashboard on a real HTTP server over a real registry and queue; scheduler and stopper are simple stand-ins. */
export interface DashboardSetup {
  url: string;
  /** `url` with `?token=`: opening it logs a browser in. */
  loginUrl: string;
  registry: Registry;
  queue: RequestQueue;
  paused: { value: boolean };
  stopped: string[];
  dashboard: Dashboard;
  server: Server;
  close(): Promise<void>;
}

export async function startDashboard(options: Partial<DashboardOptions> = {}): Promise<DashboardSetup> {
  const dir = await mkdtemp(join(tmpdir(), "dashboard-"));
  const store: Store = await openStore(`file:${dir}`);
  const registry = await Registry.open(store, log, { checkpointMs: 3_600_000 });
  const queue = new RequestQueue(store);
  const paused = { value: false };
  const stopped: string[] = [];
  const dashboard = createDashboard({
    registry,
    queue,
    scheduler: {
      get isPaused() {
        return paused.value;
      },
      pause() {
        paused.value = true;
      },
      resume() {
        paused.value = false;
      },
    },
    stopper: {
      async stop(id) {
        stopped.push(id);
        await registry.transition(id, "stopping", "stopped from the dashboard");
      },
    },
    auth: new DashboardAuth(TOKEN, "http://hub.example.test"),
    config: { MAX_THOPTERS: 10, GITHUB_API_URL: "https://api.github.com", prices: DEFAULT_PRICES },
    log,
    ...options,
  });
  const server: Server = await new Promise((resolve) => {
    const s = createApp(log, [dashboard.router]).listen(0, "127.0.0.1", () => resolve(s));
  });
  dashboard.attach(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    loginUrl: `${url}/?token=${TOKEN}`,
    registry,
    queue,
    paused,
    stopped,
    dashboard,
    server,
    async close() {
      await dashboard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await registry.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const PATH: ThopterState[] = ["requested", "provisioning", "booting", "working"];
/** Reasons as the scheduler, observer and broker give them, so pages (and the README screenshot) look real. */
const REASON: Partial<Record<ThopterState, string>> = {
  provisioning: "provisioning",
  booting: "machine started",
  working: "PreToolUse",
  waiting: "Notification (idle)",
  done: "report_status done",
  blocked: "report_status blocked",
  failed: "StopFailure",
};

/** Adds a thopter and walks it to `state` through the lifecycle. */
export async function addThopter(
  registry: Registry,
  id: string,
  fields: {
    state?: ThopterState;
    issueNumber?: number;
    issueTitle?: string;
    repo?: string;
    at?: string;
    branch?: string;
  } = {},
): Promise<void> {
  const issueNumber = fields.issueNumber ?? 7;
  await registry.create({
    id,
    requestId: `req-${id}`,
    repo: fields.repo ?? REPO,
    issueNumber,
    issueTitle: fields.issueTitle ?? "Widgets wobble",
    branch: fields.branch ?? `thopter/${issueNumber}--${id}`,
    gc: "default",
    prompt: "default",
    state: "requested",
    machine: null,
  });
  const target = fields.state ?? "working";
  const path = PATH.includes(target) ? PATH.slice(1, PATH.indexOf(target) + 1) : [...PATH.slice(1), target];
  for (const state of path)
    await registry.transition(id, state, REASON[state] ?? state, { lastReportAt: new Date().toISOString() });
}

export function requestSource(issueNumber: number, commentId: number) {
  return {
    repo: REPO,
    issueNumber,
    commentId,
    author: "alice",
    authorAssociation: "OWNER" as const,
    url: `https://github.com/${REPO}/issues/${issueNumber}#issuecomment-${commentId}`,
    via: "poll" as const,
    createdAt: new Date().toISOString(),
  };
}

/** One Chromium for a test file, and every dashboard a test starts closed after it (registers the vitest hooks). */
export function browserSuite(): {
  browser(): Browser;
  start(options?: Partial<DashboardOptions>): Promise<DashboardSetup>;
} {
  let browser: Browser | undefined;
  const setups: DashboardSetup[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await Promise.all(setups.splice(0).map((s) => s.close()));
  });
  return {
    browser: () => browser!,
    async start(options = {}) {
      const setup = await startDashboard(options);
      setups.push(setup);
      return setup;
    },
  };
}

/** A new browser context, logged in through the login URL (`?token=`) unless `login` is false, at `url`. */
export async function openPage(browser: Browser, url: string, login = true): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 800 } });
  const page = await context.newPage();
  if (login) await page.goto(`${new URL(url).origin}/?token=${TOKEN}`);
  await page.goto(url);
  return page;
}

/** The state badge of thopter `id`'s row. */
export const rowState = (page: Page, id: string) => page.locator(`tr[data-id="${id}"] .badge`).first().textContent();
