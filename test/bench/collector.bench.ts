// Collector throughput and latency with 1,000 registered thopters, each posting over its own keep-alive connection.
// The hub side runs in a child process (this same file, forked) so the load generator does not share its event loop.
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHistogram } from "node:perf_hooks";
import { startCollector, TokenStore } from "@thopter/hub/collector/index";
import { Registry } from "@thopter/hub/registry/index";
import { openStore } from "@thopter/hub/store/index";
import type { StatusReport } from "@thopter/protocol";
import { pino } from "pino";
import type { Bench, BenchRow } from "./bench.js";

const THOPTERS = 1_000;
const TARGET_RATE = 2_000;
const TARGET_P99_MS = 20;
const OFFERED_SECONDS = 5;
const CLOSED_LOOP_SECONDS = 4;
/**
 * Out of every this many reports, two change the state (a permission prompt: waiting, then working again), which
 * the collector writes to the store before answering; the rest are tool events, kept in memory until a checkpoint.
 */
const STATE_CHANGE_EVERY = 20;

interface Ready {
  url: string;
  tokens: string[];
}

interface ServerStats {
  p50: number;
  p99: number;
  count: number;
  cpuMs: number;
}

/** Child side: a store in a fresh folder, 1,000 working thopters with status tokens, the collector on port 0. */
async function serve(dir: string): Promise<void> {
  const log = pino({ level: "warn" });
  const store = await openStore(`file:${dir}`);
  const registry = await Registry.open(store, log, { checkpointMs: 10_000 });
  const tokens = await TokenStore.open(store);
  const minted: string[] = [];
  for (let i = 0; i < THOPTERS; i++) {
    const id = `bench-${i}`;
    await registry.create({
      id,
      requestId: "bench",
      repo: "acme/widgets",
      issueNumber: 1 + (i % 50),
      issueTitle: "bench",
      branch: `thopter/${1 + (i % 50)}--${id}`,
      gc: "default",
      prompt: "default",
      state: "working",
      machine: { provider: "local", id: `m-${id}` },
    });
    minted.push((await tokens.mint(id)).status);
  }
  const collector = await startCollector({ registry, tokens, log, host: "127.0.0.1", port: 0 });
  // Time spent inside the collector (request parsed → answer written), apart from the client's share of the CPU.
  const inside = createHistogram();
  collector.server.prependListener("request", (_req: IncomingMessage, res: ServerResponse) => {
    const start = process.hrtime.bigint();
    res.once("finish", () => inside.record(process.hrtime.bigint() - start));
  });
  let cpu = process.cpuUsage();
  process.send!({ url: collector.url, tokens: minted } satisfies Ready);
  process.on("message", async (message: "reset" | "stats" | "stop") => {
    if (message === "reset") {
      inside.reset();
      cpu = process.cpuUsage();
    } else if (message === "stats") {
      const used = process.cpuUsage(cpu);
      process.send!({
        p50: inside.percentile(50) / 1e6,
        p99: inside.percentile(99) / 1e6,
        count: inside.count,
        cpuMs: (used.user + used.system) / 1000,
      } satisfies ServerStats);
    } else {
      await collector.close();
      await registry.close();
      await store.close();
      process.exit(0);
    }
  });
}

if (process.env.COLLECTOR_BENCH_STORE && process.send) await serve(process.env.COLLECTOR_BENCH_STORE);

/**
 * One thopter: its own keep-alive connection and its own sequence of hook events. A bare HTTP/1.1 client over a
 * socket, so that on a 2-core machine the load generator takes as little CPU from the collector as it can.
 */
class Thopter {
  private socket: Socket | undefined;
  private buffered = "";
  private waiting: { resolve(): void; reject(err: Error): void } | undefined;
  private sent = 0;

  constructor(
    private readonly url: URL,
    private readonly token: string,
  ) {}

  private next(): StatusReport {
    const n = this.sent++;
    const at = new Date().toISOString();
    if (n % STATE_CHANGE_EVERY === STATE_CHANGE_EVERY - 2) {
      return { state: "waiting", reason: "permission", event: "Notification", at };
    }
    if (n % STATE_CHANGE_EVERY === STATE_CHANGE_EVERY - 1) return { state: "working", event: "UserPromptSubmit", at };
    return { state: "working", event: n % 2 ? "PostToolUse" : "PreToolUse", detail: "Bash: pnpm test", at };
  }

  private connect(): Socket {
    const socket = createConnection({ host: this.url.hostname, port: Number(this.url.port), noDelay: true });
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => this.onData(chunk));
    socket.on("error", (err) => this.settle(err));
    socket.on("close", () => {
      this.socket = undefined;
      this.settle(new Error("collector closed the connection"));
    });
    return socket;
  }

  /** Resolves on a 200 answer, when its whole body has arrived. */
  private onData(chunk: string): void {
    this.buffered += chunk;
    const headerEnd = this.buffered.indexOf("\r\n\r\n");
    if (headerEnd < 0) return;
    const length = Number(/content-length: *(\d+)/i.exec(this.buffered.slice(0, headerEnd))?.[1] ?? 0);
    if (this.buffered.length < headerEnd + 4 + length) return;
    const status = this.buffered.slice(9, 12);
    this.buffered = "";
    this.settle(status === "200" ? undefined : new Error(`collector said ${status}`));
  }

  private settle(err?: Error): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (err) waiting?.reject(err);
    else waiting?.resolve();
  }

  post(): Promise<void> {
    const body = JSON.stringify(this.next());
    this.socket ??= this.connect();
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket!.write(
        `POST ${this.url.pathname} HTTP/1.1\r\nhost: ${this.url.host}\r\nauthorization: Bearer ${this.token}\r\n` +
          `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
  }

  close(): void {
    this.socket?.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * Open loop: every thopter posts on its own schedule so that together they offer `rate` reports/s. Latency is
 * measured from the scheduled time, so a stall is counted for every report it delays.
 */
async function offeredLoad(thopters: Thopter[], rate: number, seconds: number) {
  const period = (thopters.length / rate) * 1000;
  const start = performance.now() + 100;
  const latencies: number[] = [];
  await Promise.all(
    thopters.map(async (t, i) => {
      for (let due = start + (i * period) / thopters.length; due < start + seconds * 1000; due += period) {
        // Timers take whole milliseconds and would wake up to 1 ms early: never start before the report is due.
        await sleep(Math.max(0, Math.ceil(due - performance.now())));
        await t.post();
        latencies.push(performance.now() - due);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { rate: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Closed loop: every thopter posts again as soon as it has its answer; what the collector can take at most. */
async function closedLoop(thopters: Thopter[], seconds: number): Promise<number> {
  let count = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    thopters.map(async (t) => {
      while (performance.now() < end) {
        await t.post();
        count++;
      }
    }),
  );
  return count / ((performance.now() - start) / 1000);
}

async function startServer(dir: string): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = fork(import.meta.filename, [], {
    env: { ...process.env, COLLECTOR_BENCH_STORE: dir },
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once("message", (m) => resolve(m as Ready));
    child.once("exit", (code) => reject(new Error(`collector process exited with ${code}`)));
  });
  return { child, ready };
}

const bench: Bench = {
  name: "collector",
  async run(): Promise<BenchRow[]> {
    const dir = mkdtempSync(join(tmpdir(), "collector-bench-"));
    const { child, ready } = await startServer(dir);
    const url = new URL("/v1/status", ready.url);
    const thopters = ready.tokens.map((token) => new Thopter(url, token));
    try {
      await Promise.all(thopters.map((t) => t.post())); // open every connection before measuring
      const stats = async (): Promise<ServerStats> => {
        child.send("stats");
        return new Promise((resolve) => child.once("message", (m) => resolve(m as ServerStats)));
      };
      child.send("reset");
      const offered = await offeredLoad(thopters, TARGET_RATE, OFFERED_SECONDS);
      const server = await stats();
      const max = await closedLoop(thopters, CLOSED_LOOP_SECONDS);
      const area = `collector (${THOPTERS} thopters)`;
      const at = `at ${TARGET_RATE}/s`;
      return [
        {
          area,
          metric: "max reports/s (closed loop)",
          value: Math.round(max),
          unit: "/s",
          target: `≥ ${TARGET_RATE}`,
          ok: max >= TARGET_RATE,
        },
        {
          area,
          metric: `reports/s sustained ${at} offered`,
          value: Math.round(offered.rate),
          unit: "/s",
          target: `≥ ${TARGET_RATE * 0.95}`,
          ok: offered.rate >= TARGET_RATE * 0.95,
        },
        { area, metric: `p50 latency ${at}`, value: offered.p50, unit: "ms" },
        {
          area,
          metric: `p99 latency ${at}`,
          value: offered.p99,
          unit: "ms",
          target: `< ${TARGET_P99_MS}`,
          ok: offered.p99 < TARGET_P99_MS,
        },
        { area, metric: `p50 inside the collector ${at}`, value: server.p50, unit: "ms" },
        { area, metric: `p99 inside the collector ${at}`, value: server.p99, unit: "ms" },
        { area, metric: "collector CPU per report", value: (server.cpuMs * 1000) / server.count, unit: "µs" },
      ];
    } finally {
      for (const t of thopters) t.close();
      child.send("stop");
      await new Promise((r) => child.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
