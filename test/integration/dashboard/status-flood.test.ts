import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCollector, type ThopterTokens, TokenStore } from "@thopter/hub/collector/index";
import { STATUS_RATE } from "@thopter/hub/collector/rate-limit";
import { createApp } from "@thopter/hub/http/app";
import { thoptersRouter } from "@thopter/hub/registry/index";
import { TIMELINE_LIMIT } from "@thopter/hub/registry/timeline";
import { openStore, type Store } from "@thopter/hub/store/index";
import type { BrokerReport, StatusReport, ThopterRecord } from "@thopter/protocol";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { addThopter, BEARER, type DashboardSetup, startDashboard } from "./harness.js";

// An agent that reads its observer's status token floods the collector: the flood is rate-limited, and the broker's
// audit entries stay on the thopter's timeline in the API whatever gets through.
const log = pino({ level: "silent" });
const BROKER_CALLS = 40;

let hub: DashboardSetup;
/** `GET /api/thopters/:id` over the same registry (the hub mounts it beside the dashboard). */
let api: string;
let dir: string;
let tokenStore: Store;
let tokens: TokenStore;
const closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  hub = await startDashboard();
  const server: Server = await new Promise((resolve) => {
    const s = createApp(log, [thoptersRouter(hub.registry)]).listen(0, "127.0.0.1", () => resolve(s));
  });
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), "status-flood-"));
  tokenStore = await openStore(`file:${dir}`);
  tokens = await TokenStore.open(tokenStore);
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await hub.close();
  await tokenStore.close();
  await rm(dir, { recursive: true, force: true });
});

async function collector(statusRate = STATUS_RATE): Promise<string> {
  const c = await startCollector({ registry: hub.registry, tokens, log, host: "127.0.0.1", port: 0, statusRate });
  closers.push(c.close);
  return c.url;
}

const post = (url: string, token: string, body: unknown) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });

/** The broker's audit of its tool calls, as its outbox delivers them. */
async function brokerCalls(url: string, t: ThopterTokens): Promise<void> {
  for (let i = 0; i < BROKER_CALLS; i++) {
    const report: BrokerReport = {
      idempotencyKey: `audit-${i}`,
      at: new Date().toISOString(),
      body: { kind: "audit", tool: "get_issue", args: {}, outcome: "ok", message: `call ${i}`, durationMs: 1 },
    };
    expect((await post(`${url}/v1/reports`, t.broker, report)).status).toBe(200);
  }
}

/** 3,000 status reports, 50 at a time, as fast as the collector answers; the statuses it answered. */
async function flood(url: string, t: ThopterTokens): Promise<Response[]> {
  const answers: Response[] = [];
  for (let sent = 0; sent < 3_000; sent += 50) {
    const batch = Array.from({ length: 50 }, (_, i) => {
      const report: StatusReport = {
        state: "working",
        event: "PostToolUse",
        detail: `flood ${sent + i}`,
        at: new Date().toISOString(),
      };
      return post(`${url}/v1/status`, t.status, report);
    });
    for (const res of await Promise.all(batch)) {
      await res.arrayBuffer();
      answers.push(res);
    }
  }
  return answers;
}

async function timeline(id: string): Promise<ThopterRecord["timeline"]> {
  const res = await fetch(`${api}/api/thopters/${id}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as ThopterRecord).timeline;
}

it("answers a status flood over the thopter's rate with 429 and Retry-After, and lets the rate through", async () => {
  await addThopter(hub.registry, "fl1");
  const t = await tokens.mint("fl1");
  const url = await collector();
  const started = performance.now();
  const answers = await flood(url, t);
  const seconds = (performance.now() - started) / 1000;

  const accepted = answers.filter((r) => r.status === 200).length;
  const limited = answers.filter((r) => r.status === 429);
  expect(accepted + limited.length).toBe(3_000);
  expect(accepted).toBeGreaterThanOrEqual(STATUS_RATE.burst);
  expect(accepted).toBeLessThanOrEqual(STATUS_RATE.burst + Math.ceil(seconds * STATUS_RATE.perSecond) + 1);
  expect(Number(limited[0]?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

  // Another thopter's observer is not slowed down by the first one's limit.
  await addThopter(hub.registry, "fl2");
  const other = await tokens.mint("fl2");
  const report: StatusReport = { state: "working", event: "PreToolUse", at: new Date().toISOString() };
  expect((await post(`${url}/v1/status`, other.status, report)).status).toBe(200);
}, 120_000);

it("keeps every broker entry visible in /api/thopters/:id after 3,000 status reports get through", async () => {
  await addThopter(hub.registry, "fl3");
  const t = await tokens.mint("fl3");
  // No rate limit here: what a patient agent gets through at the allowed rate over minutes, at once.
  const url = await collector({ burst: 10_000, perSecond: 10_000 });
  await brokerCalls(url, t);
  const answers = await flood(url, t);
  expect(answers.every((r) => r.status === 200)).toBe(true);

  const entries = await timeline("fl3");
  const broker = entries.filter((e) => e.source === "broker");
  expect(broker.map((e) => e.message)).toEqual(Array.from({ length: BROKER_CALLS }, (_, i) => `call ${i}`));
  const observer = entries.filter((e) => e.source === "observer");
  expect(observer).toHaveLength(TIMELINE_LIMIT);
  expect(observer.at(-1)?.message).toBe("PostToolUse: flood 2999");

  // The dashboard's page of the thopter lists both (the tool call in words: tool `flood`, target `2999`).
  const page = await (await fetch(`${hub.url}/thopters/fl3`, { headers: BEARER })).text();
  expect(page).toContain("call 0");
  expect(page).toContain("using flood on 2999");
}, 180_000);
