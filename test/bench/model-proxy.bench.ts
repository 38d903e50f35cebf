// Model proxy: time to first byte and total time of a streamed Messages response through the thopter's model proxy
// (the real program, its own process, as in a thopter) against the same endpoint directly; target ≤ 5 ms added at p50.
import { once } from "node:events";
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { userInfo } from "node:os";
import { startModelProxyProcess, startReportSink, writeModelProxyFiles } from "../helpers/model-proxy.js";
import type { Bench, BenchRow } from "./bench.js";

const SAMPLES = 200;
const TARGET_MS = 5;
const KEY = "sk-ant-api03-bench";

const EVENTS = [
  `event: message_start\ndata: {"type":"message_start","message":{"id":"msg_b","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"usage":{"input_tokens":100,"output_tokens":1}}}\n\n`,
  ...Array.from(
    { length: 20 },
    (_, i) =>
      `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"token ${i} "}}\n\n`,
  ),
  `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":20}}\n\n`,
  `event: message_stop\ndata: {"type":"message_stop"}\n\n`,
];

/** A model endpoint that streams like the API: the first event at once, then one event a millisecond. */
async function streamingEndpoint() {
  const server = createServer(async (req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const event of EVENTS) {
      res.write(event);
      await new Promise((r) => setTimeout(r, 1));
    }
    res.end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

/** One streamed request: ms to the first body byte and to the end. */
function timed(url: string, key: string, agent: Agent): Promise<{ ttfb: number; total: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let ttfb = 0;
    const req = request(`${url}/v1/messages`, {
      method: "POST",
      agent,
      headers: { "x-api-key": key, "content-type": "application/json" },
    });
    req.on("response", (res) => {
      res.on("data", () => {
        ttfb ||= performance.now() - start;
      });
      res.on("end", () => resolve({ ttfb, total: performance.now() - start }));
    });
    req.on("error", reject);
    req.end(JSON.stringify({ model: "claude-sonnet-4-5", stream: true, max_tokens: 10, messages: [] }));
  });
}

const p50 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (ms: number) => Math.round(ms * 100) / 100;

const bench: Bench = {
  name: "model proxy",
  async run(): Promise<BenchRow[]> {
    const endpoint = await streamingEndpoint();
    const sink = await startReportSink();
    // As root the agent is `thopter`; otherwise isolation is off and the agent is this user (what the proxy allows).
    const self = process.getuid?.() === 0 ? {} : { isolation: "off" as const, agentUser: userInfo().username };
    const files = writeModelProxyFiles({ kind: "apiKey", value: KEY, baseUrl: endpoint.url }, sink.url, {
      ...self,
      reportEveryMs: 2_000,
    });
    const proxy = await startModelProxyProcess(files);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const direct: Array<{ ttfb: number; total: number }> = [];
    const through: Array<{ ttfb: number; total: number }> = [];
    try {
      for (let i = 0; i < 20; i++) await timed(proxy.url, proxy.placeholder, agent); // warm-up
      for (let i = 0; i < SAMPLES; i++) {
        direct.push(await timed(endpoint.url, KEY, agent));
        through.push(await timed(proxy.url, proxy.placeholder, agent));
      }
    } finally {
      agent.destroy();
      await proxy.stop();
      await sink.close();
      endpoint.close();
    }
    const rows: BenchRow[] = [];
    for (const metric of ["ttfb", "total"] as const) {
      const name = metric === "ttfb" ? "time to first byte" : "total time";
      const d = p50(direct.map((s) => s[metric]));
      const t = p50(through.map((s) => s[metric]));
      rows.push({ area: "model proxy", metric: `${name}, direct (p50)`, value: round(d), unit: "ms" });
      rows.push({ area: "model proxy", metric: `${name}, through the proxy (p50)`, value: round(t), unit: "ms" });
      rows.push({
        area: "model proxy",
        metric: `${name}, added by the proxy (p50)`,
        value: round(t - d),
        unit: "ms",
        target: `≤ ${TARGET_MS} ms`,
        ok: t - d <= TARGET_MS,
      });
    }
    return rows;
  },
};
export default bench;
