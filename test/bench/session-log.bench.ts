// Session log: renderer throughput on a 50 MB transcript made of real lines, and the delay from a line landing in
// the transcript (or the boot log) to its rendered entry reaching an open page (a real SSE client over HTTP, and Chromium).
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mintAccessToken } from "@thopter/agent/access/index";
import { LineSplitter, startSessionLogServer, TranscriptRenderer } from "@thopter/agent/session-log/index";
import { pino } from "pino";
import { launchBrowser } from "../helpers/browser.js";
import { writeBigTranscript } from "../integration/agent-web/transcripts.js";
import type { Bench, BenchRow } from "./bench.js";

const SIZE = 50 * 1024 * 1024;
const TARGET_MBPS = 50;
const TARGET_DELAY_MS = 1000;
const SAMPLES = 20;
const MB = 1024 * 1024;

interface Throughput {
  wall: number;
  cpu: number;
}

/**
 * Renders the file as the tailer feeds it (1 MB reads, a batch per read): MB of transcript per second of wall clock,
 * and per second of this process's CPU time (what the renderer costs, whatever else the shared machine is running).
 */
function renderThroughput(file: string): Throughput {
  const fd = openSync(file, "r");
  const buffer = Buffer.allocUnsafe(MB);
  const splitter = new LineSplitter();
  const renderer = new TranscriptRenderer();
  let html = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) {
    for (const line of splitter.push(buffer.subarray(0, n))) renderer.write(line);
    for (const op of renderer.take()) html += op.html.length;
  }
  const seconds = (performance.now() - start) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  closeSync(fd);
  if (html === 0) throw new Error("rendered nothing");
  const mb = statSync(file).size / MB;
  return { wall: mb / seconds, cpu: mb / ((user + system) / 1e6) };
}

/** A user line carrying `marker`, as Claude Code writes a prompt. */
function markedLine(marker: string): string {
  return `${JSON.stringify({ type: "user", timestamp: new Date().toISOString(), message: { role: "user", content: marker } })}\n`;
}

/** A boot log line carrying `marker`, as boot's pino logger writes a finished step. */
function bootLine(marker: string): string {
  return `${JSON.stringify({ level: 30, time: Date.now(), pid: 1, name: "boot", step: "bench", ms: 1, msg: marker })}\n`;
}

/** Appends `SAMPLES` marked lines, each timed until `seen(marker)` resolves, with a random pause between. */
async function timeAppends(
  file: string,
  seen: (marker: string) => Promise<void>,
  line: (marker: string) => string = markedLine,
): Promise<number[]> {
  const delays: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const marker = `bench-marker-${i}-${Date.now()}`;
    const start = performance.now();
    appendFileSync(file, line(marker));
    await seen(marker);
    delays.push(performance.now() - start);
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
  }
  return delays.sort((a, b) => a - b);
}

/** Times appends to `file` until each marker arrives on the event stream at `url` (the server's share of the delay). */
async function streamDelays(url: string, file: string, line?: (marker: string) => string): Promise<number[]> {
  const abort = new AbortController();
  try {
    const res = await fetch(url, { signal: abort.signal });
    if (!res.ok || !res.body) throw new Error(`event stream refused: ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let received = "";
    const seen = async (marker: string) => {
      while (!received.includes(marker)) {
        const { value, done } = await reader.read();
        if (done) throw new Error("event stream ended");
        received += value;
      }
      received = "";
    };
    return await timeAppends(file, seen, line);
  } finally {
    abort.abort();
  }
}

/**
 * The delay from a line landing in a followed transcript to its entry arriving at an open page: on a raw SSE client
 * (the server's share), and in Chromium's DOM (what a person sees, including the browser's own work); and the same
 * for a line of the boot log on its page's stream.
 */
async function liveDelays(dir: string): Promise<{ stream: number[]; page: number[]; boot: number[] }> {
  const key = "bench-session-log-key-0123456789abcdef";
  const bootLog = join(dir, "boot.log");
  const log = pino({ level: "warn" });
  const server = await startSessionLogServer({ key, thopterId: "bench", dir, bootLog, log });
  const file = join(dir, "session.jsonl");
  appendFileSync(file, "");
  appendFileSync(bootLog, "");
  const token = mintAccessToken(key, { thopterId: "bench", scope: "log", exp: Math.floor(Date.now() / 1000) + 600 });
  const browser = await launchBrowser();
  try {
    const stream = await streamDelays(`${server.url}/events?token=${token}`, file);
    const boot = await streamDelays(`${server.url}/boot-log/events?token=${token}`, bootLog, bootLine);
    const page = await browser.newPage();
    await page.goto(`${server.url}/?token=${token}`);
    await page.locator("section").waitFor();
    const shown = await timeAppends(file, (marker) =>
      page.locator(".entry.user .text", { hasText: marker }).waitFor({ timeout: 10_000 }),
    );
    return { stream, page: shown, boot };
  } finally {
    await browser.close();
    await server.close();
  }
}

function delayRow(which: string, ms: number): BenchRow {
  const target = `< ${TARGET_DELAY_MS} ms`;
  return {
    area: "session log",
    metric: `line landed → ${which}`,
    value: ms,
    unit: "ms",
    target,
    ok: ms < TARGET_DELAY_MS,
  };
}

const bench: Bench = {
  name: "session-log",
  async run(): Promise<BenchRow[]> {
    const dir = mkdtempSync(join(tmpdir(), "thopter-bench-log-"));
    try {
      const big = join(dir, "big.jsonl");
      await writeBigTranscript(big, SIZE);
      // The first pass warms the JIT; the median of the next three is less at the mercy of a busy shared machine.
      renderThroughput(big);
      const passes = [renderThroughput(big), renderThroughput(big), renderThroughput(big)];
      const median = (values: number[]) => values.sort((a, b) => a - b)[1] as number;
      const cpu = median(passes.map((p) => p.cpu));
      const wall = median(passes.map((p) => p.wall));
      rmSync(big);
      const live = join(dir, "projects");
      mkdirSync(live);
      const delays = await liveDelays(live);
      const p50 = (sorted: number[]) => sorted[Math.floor(sorted.length / 2)] as number;
      const max = (sorted: number[]) => sorted[sorted.length - 1] as number;
      return [
        {
          area: "session log",
          metric: "render throughput, 50 MB of real lines (per CPU-second)",
          value: cpu,
          unit: "MB/s",
          target: `≥ ${TARGET_MBPS} MB/s`,
          ok: cpu >= TARGET_MBPS,
        },
        { area: "session log", metric: "render throughput, wall clock on this machine", value: wall, unit: "MB/s" },
        delayRow(`event stream, p50 of ${SAMPLES}`, p50(delays.stream)),
        delayRow(`event stream, max of ${SAMPLES}`, max(delays.stream)),
        delayRow(`shown in Chromium, p50 of ${SAMPLES}`, p50(delays.page)),
        delayRow(`shown in Chromium, max of ${SAMPLES}`, max(delays.page)),
        delayRow(`boot log event stream, p50 of ${SAMPLES}`, p50(delays.boot)),
        delayRow(`boot log event stream, max of ${SAMPLES}`, max(delays.boot)),
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
