import { once } from "node:events";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRoot } from "../../helpers/claude.js";
import { startModelProxyProcess, startReportSink, writeModelProxyFiles } from "../../helpers/model-proxy.js";
import { poll } from "../../helpers/poll.js";

describe.skipIf(!isRoot)("the model proxy's streaming (root only: the proxy runs as root)", () => {
  let sink: Awaited<ReturnType<typeof startReportSink>>;
  beforeAll(async () => {
    sink = await startReportSink();
  });
  afterAll(() => sink.close());
  const usageReports = () => sink.reports.flatMap((r) => (r.body.kind === "usage" ? [r.body.models] : []));

  it("streams the endpoint's bytes through unchanged and unbuffered, with the OAuth token and its beta header", async () => {
    const deltaText = "Grüße, ünïcödé ✓";
    const events = [
      `event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[],"usage":{"input_tokens":1234,"output_tokens":1,"cache_read_input_tokens":50,"cache_creation_input_tokens":7}}}\n\n`,
      `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${JSON.stringify(deltaText)}}}\n\n`,
      `event: message_delta\r\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":321}}\r\n\r\n`,
      `event: message_stop\ndata: {"type":"message_stop"}\n\n`,
    ];
    const bytes = Buffer.from(events.join(""));
    // Cut mid-line and inside a multi-byte character: what reaches the client must still be exactly these bytes.
    const cut = [0, 100, bytes.indexOf("ü") + 1, bytes.indexOf("message_delta") + 20, bytes.length - 3, bytes.length];
    const chunks = cut.slice(1).map((end, i) => bytes.subarray(cut[i], end));
    let firstSeen!: () => void;
    const clientHasFirst = new Promise<void>((r) => {
      firstSeen = r;
    });
    const seenUpstream: Array<Record<string, unknown>> = [];
    const upstream = createServer(async (req, res) => {
      seenUpstream.push({ ...req.headers });
      req.resume();
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(chunks[0]);
      // The rest only once the client has the first chunk: a proxy that buffers would never deliver it.
      await clientHasFirst;
      for (const chunk of chunks.slice(1)) {
        res.write(chunk);
        await new Promise((r) => setTimeout(r, 20));
      }
      res.end();
    });
    upstream.listen(0, "127.0.0.1");
    await once(upstream, "listening");
    const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/gateway`;
    const oauth = `sk-ant-oat01-REAL-${"y".repeat(40)}`;
    const proxy = await startModelProxyProcess(
      writeModelProxyFiles({ kind: "oauthToken", value: oauth, baseUrl: base }, sink.url),
    );
    try {
      const received = await new Promise<Buffer>((resolve, reject) => {
        const req = request(`${proxy.url}/v1/messages?beta=true`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${proxy.placeholder}`,
            "anthropic-beta": "claude-code-20250219",
            "content-type": "application/json",
          },
        });
        req.on("response", (res) => {
          const got: Buffer[] = [];
          res.on("data", (chunk: Buffer) => {
            got.push(chunk);
            firstSeen();
          });
          res.on("end", () => resolve(Buffer.concat(got)));
        });
        req.on("error", reject);
        req.end(JSON.stringify({ model: "claude-haiku-4-5", stream: true, messages: [] }));
      });
      expect(received.equals(bytes)).toBe(true);
      expect(seenUpstream).toHaveLength(1);
      expect(seenUpstream[0]).toMatchObject({
        authorization: `Bearer ${oauth}`,
        "anthropic-beta": "claude-code-20250219,oauth-2025-04-20",
      });
      expect(seenUpstream[0]!["x-api-key"]).toBeUndefined();
      await poll(
        () => usageReports().find((m) => m["claude-haiku-4-5"]),
        10_000,
        () => "a usage report for claude-haiku-4-5",
      );
      expect(usageReports().at(-1)).toEqual({
        "claude-haiku-4-5": { input: 1234, output: 321, cacheRead: 50, cacheWrite: 7 },
      });
    } finally {
      await proxy.stop();
      upstream.close();
    }
  }, 60_000);
});
