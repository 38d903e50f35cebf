// Dashboard: the swarm page's first render with 1,000 thopters, and live-update fan-out to 50 open dashboards.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { Registry } from "@thopter/hub/registry/index";
import { WebSocket } from "ws";
import { BEARER, startDashboard } from "../integration/dashboard/harness.js";
import type { Bench, BenchRow } from "./bench.js";

const THOPTERS = 1_000;
const DASHBOARDS = 50;
const UPDATES = 200;
const BURST = 1_000;
const TARGET_RENDER_MS = 100;
const TARGET_FANOUT_P99_MS = 100;
const area = "dashboard";

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function fill(registry: Registry): Promise<void> {
  const states = ["working", "waiting", "done", "blocked", "failed", "gone"] as const;
  for (let i = 0; i < THOPTERS; i++) {
    const id = `bench-${String(i).padStart(4, "0")}`;
    await registry.create({
      id,
      requestId: "bench",
      repo: i % 4 === 0 ? "acme/gears" : "acme/widgets",
      issueNumber: 1 + (i % 200),
      issueTitle: `Issue ${i}: <make> the "widgets" spin & stop`,
      branch: `thopter/${1 + (i % 200)}--${id}`,
      gc: "default",
      prompt: "default",
      state: states[i % states.length]!,
      machine: { provider: "local", id: `m-${id}`, address: "127.0.0.1" },
    });
  }
}

/** Server time (request in → last byte written) and bytes of `GET path`, the first time and then typically. */
async function renderTimes(url: string, server: Server): Promise<BenchRow[]> {
  const inside: number[] = [];
  server.prependListener("request", (_req: IncomingMessage, res: ServerResponse) => {
    const start = performance.now();
    res.once("finish", () => inside.push(performance.now() - start));
  });
  let bytes = 0;
  for (let i = 0; i < 21; i++) bytes = (await (await fetch(url, { headers: BEARER })).arrayBuffer()).byteLength;
  const [first, ...rest] = inside;
  const sorted = rest.sort((a, b) => a - b);
  const median = percentile(sorted, 50);
  return [
    {
      area,
      metric: `swarm page, ${THOPTERS} thopters: first render (server)`,
      value: first!,
      unit: "ms",
      target: `< ${TARGET_RENDER_MS} ms`,
      ok: first! < TARGET_RENDER_MS,
    },
    { area, metric: `swarm page, ${THOPTERS} thopters: later renders p50 (server)`, value: median, unit: "ms" },
    { area, metric: "swarm page size (50 rows per page)", value: Math.round(bytes / 1024), unit: "KiB" },
  ];
}

async function openDashboards(url: string): Promise<WebSocket[]> {
  return Promise.all(
    Array.from({ length: DASHBOARDS }, async () => {
      const ws = new WebSocket(`${url.replace("http", "ws")}/dashboard/live`, { headers: BEARER });
      await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
      return ws;
    }),
  );
}

/** Latency from the registry's change event to each dashboard socket, one change at a time. */
async function fanOut(registry: Registry, sockets: WebSocket[]): Promise<BenchRow[]> {
  let changedAt = 0;
  registry.prependListener("change", () => {
    changedAt = performance.now();
  });
  const latencies: number[] = [];
  for (let i = 0; i < UPDATES; i++) {
    const id = `bench-${String((i * 7) % THOPTERS).padStart(4, "0")}`;
    const arrived = sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          const onMessage = (data: Buffer) => {
            if (!data.toString().includes(`"id":"${id}"`)) return;
            latencies.push(performance.now() - changedAt);
            ws.off("message", onMessage);
            resolve();
          };
          ws.on("message", onMessage);
        }),
    );
    await registry.update(id, {
      patch: { lastReportAt: new Date().toISOString() },
      entry: { source: "observer", kind: "PostToolUse", message: "Bash: pnpm test" },
    });
    await Promise.all(arrived);
    // Past the coalescing window, so each change is measured on its own.
    await new Promise((resolve) => setTimeout(resolve, 60));
  }
  latencies.sort((a, b) => a - b);

  // A burst: many changes in a short time reach each dashboard as a few messages.
  let messages = 0;
  sockets[0]!.on("message", () => messages++);
  for (let i = 0; i < BURST; i++) {
    const id = `bench-${String(i).padStart(4, "0")}`;
    void registry.update(id, { patch: { lastReportAt: new Date().toISOString() } });
    if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  const p99 = percentile(latencies, 99);
  return [
    { area, metric: `ws fan-out to ${DASHBOARDS} dashboards p50`, value: percentile(latencies, 50), unit: "ms" },
    {
      area,
      metric: `ws fan-out to ${DASHBOARDS} dashboards p99`,
      value: p99,
      unit: "ms",
      target: `< ${TARGET_FANOUT_P99_MS} ms`,
      ok: p99 < TARGET_FANOUT_P99_MS,
    },
    { area, metric: `burst of ${BURST} changes: messages per dashboard`, value: messages },
  ];
}

const bench: Bench = {
  name: "dashboard",
  async run() {
    const d = await startDashboard();
    try {
      await fill(d.registry);
      const rows = await renderTimes(d.url, d.server);
      const sockets = await openDashboards(d.url);
      rows.push(...(await fanOut(d.registry, sockets)));
      for (const ws of sockets) ws.terminate();
      return rows;
    } finally {
      await d.close();
    }
  },
};
export default bench;
