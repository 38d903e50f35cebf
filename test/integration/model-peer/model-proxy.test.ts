import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ModelUsage } from "@thopter/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestsAs } from "../../helpers/as-user.js";
import { isRoot, prepareClaudeHome, runClaudeHeadless } from "../../helpers/claude.js";
import { startModelProxyProcess, startReportSink, writeModelProxyFiles } from "../../helpers/model-proxy.js";
import { poll } from "../../helpers/poll.js";
import { bash, callTools, type ModelPeer, say, startModelPeer } from "../../peers/model/index.js";
import { AGENT_USER } from "../../setup/global.js";

const run = promisify(execFile);
const REAL_KEY = `sk-ant-api03-REAL-${"x".repeat(40)}`;
const NOBODY = 65_534;

async function agentIds(): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string) => Number((await run("id", [flag, AGENT_USER])).stdout);
  return { uid: await id("-u"), gid: await id("-g") };
}

/** What the peer served, by model: the usage of every message it answered with. */
function served(peer: ModelPeer): ModelUsage {
  const totals: ModelUsage = {};
  for (const { response } of peer.requests) {
    if (!response) continue;
    const t = totals[response.model] ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    totals[response.model] = {
      input: t.input + response.usage.input_tokens,
      output: t.output + response.usage.output_tokens,
      cacheRead: t.cacheRead + response.usage.cache_read_input_tokens,
      cacheWrite: t.cacheWrite + response.usage.cache_creation_input_tokens,
    };
  }
  return totals;
}

// Runs as the agent: every regular file under the roots it can read (links not followed), and which hold a needle.
const WALK = `
const fs = require("node:fs"), path = require("node:path");
const [roots, needles] = JSON.parse(process.argv[1]);
let read = 0; const hits = [];
const walk = (p) => {
  let st; try { st = fs.lstatSync(p); } catch { return; }
  if (st.isDirectory()) { let names = []; try { names = fs.readdirSync(p); } catch { return; } for (const n of names) walk(path.join(p, n)); return; }
  if (!st.isFile() && !p.startsWith("/proc/")) return;
  let text; try { text = fs.readFileSync(p, "latin1"); } catch { return; }
  read++; if (needles.some((n) => text.includes(n))) hits.push(p);
};
for (const r of roots) walk(r);
process.stdout.write(JSON.stringify({ read, hits }));
`;

async function agentFindsSecret(roots: string[], secret: string): Promise<{ read: number; hits: string[] }> {
  const { uid, gid } = await agentIds();
  const needles = [secret, Buffer.from(secret).toString("base64").slice(0, 40)];
  const { stdout } = await run(process.execPath, ["-e", WALK, JSON.stringify([roots, needles])], {
    uid,
    gid,
    cwd: "/",
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout);
}

describe.skipIf(!isRoot)("the model proxy with the real Claude CLI (root only: the CLI runs as thopter)", () => {
  let sink: Awaited<ReturnType<typeof startReportSink>>;
  beforeAll(async () => {
    sink = await startReportSink();
  });
  afterAll(() => sink.close());
  const usageReports = () => sink.reports.flatMap((r) => (r.body.kind === "usage" ? [r.body.models] : []));
  const blockedReports = () => sink.reports.filter((r) => r.body.kind === "status" && r.body.state === "blocked");

  it("gives the peer the real key while the agent's env, ps, files and transcript hold only the placeholder; counts what the peer served", async () => {
    // The agent's attack: dump its own and Claude's environment and every process's, then forge its transcript's usage.
    const forged = JSON.stringify({
      type: "assistant",
      message: { model: "claude-opus-4-1", usage: { input_tokens: 99_999_999, output_tokens: 99_999_999 } },
    });
    const peer = await startModelPeer({
      scenario: [
        callTools(
          bash(
            `cat /proc/self/environ /proc/$PPID/environ | tr '\\0' '\\n' > env.txt; ps auxwwe > ps.txt; for f in ~/.claude/projects/*/*.jsonl; do echo '${forged}' >> "$f"; done`,
          ),
        ),
        say("Done."),
      ],
    });
    const files = writeModelProxyFiles({ kind: "apiKey", value: REAL_KEY, baseUrl: peer.url }, sink.url);
    const proxy = await startModelProxyProcess(files);
    const home = await prepareClaudeHome({ apiKey: proxy.placeholder });
    try {
      const result = await runClaudeHeadless(home, proxy.url, "Look around", { timeoutMs: 90_000 });
      expect(result.code, result.stderr).toBe(0);
      await peer.done;
      expect(peer.problems).toEqual([]);
      // Every request reached the peer with the real key; none with the placeholder.
      expect(peer.requests.length).toBeGreaterThan(1);
      for (const req of peer.requests) {
        expect(req.headers["x-api-key"]).toBe(REAL_KEY);
        expect(JSON.stringify(req.headers)).not.toContain(proxy.placeholder);
      }
      // The agent saw the placeholder (so the dump worked) and never the key.
      const env = await readFile(join(home.cwd, "env.txt"), "utf8");
      expect(env).toContain(`ANTHROPIC_API_KEY=${proxy.placeholder}`);
      expect(env).toContain(`ANTHROPIC_BASE_URL=${proxy.url}`);
      expect(env).not.toContain(REAL_KEY);
      const ps = await readFile(join(home.cwd, "ps.txt"), "utf8");
      expect(ps).toContain("model-proxy");
      expect(ps).not.toContain(REAL_KEY);
      // Every file the agent can read: its home (transcript included), the proxy's folder, the proxy's /proc entries.
      const walk = await agentFindsSecret(
        [home.root, files.dir, `/proc/${proxy.child.pid}/cmdline`, `/proc/${proxy.child.pid}/environ`],
        REAL_KEY,
      );
      expect(walk.read).toBeGreaterThan(5);
      expect(walk.hits).toEqual([]);
      expect(proxy.output()).not.toContain(REAL_KEY);
      expect(proxy.output()).not.toContain(proxy.placeholder);

      // The proxy's count is what the peer served, whatever the transcript now claims.
      expect(await readFile(result.transcriptPath, "utf8")).toContain('"input_tokens":99999999');
      const expected = served(peer);
      await poll(
        () => (JSON.stringify(usageReports().at(-1)) === JSON.stringify(expected) ? true : undefined),
        15_000,
        () => `usage report ${JSON.stringify(expected)}; got ${JSON.stringify(usageReports().at(-1))}`,
      );
      expect(blockedReports()).toEqual([]);
    } finally {
      await proxy.stop();
      await peer.close();
      await home.cleanup();
    }
  }, 150_000);

  it("refuses a wrong placeholder from the agent's uid, the right one from another uid, and other APIs; forwards the rest", async () => {
    const peer = await startModelPeer({ scenario: [] });
    const proxy = await startModelProxyProcess(
      writeModelProxyFiles({ kind: "apiKey", value: REAL_KEY, baseUrl: peer.url }, sink.url),
    );
    const { uid, gid } = await agentIds();
    const count = (key: string) => ({
      url: `${proxy.url}/v1/messages/count_tokens`,
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": key, "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hi" }] }),
    });
    try {
      const [wrong, bearerWrong, right] = await requestsAs(uid, gid, [
        count(`${proxy.placeholder.slice(0, -1)}0`),
        { ...count(""), headers: { authorization: "Bearer nope", "content-type": "application/json" } },
        count(proxy.placeholder),
      ]);
      const [otherUid] = await requestsAs(NOBODY, NOBODY, [count(proxy.placeholder)]);
      // The right placeholder spends the credential only on the Messages API, where the budget sees it.
      const [batch, files] = await requestsAs(uid, gid, [
        { ...count(proxy.placeholder), url: `${proxy.url}/v1/messages/batches` },
        { url: `${proxy.url}/v1/files`, headers: { "x-api-key": proxy.placeholder } },
      ]);
      for (const elsewhere of [batch, files]) {
        expect(elsewhere).toMatchObject({ status: 404 });
        expect((elsewhere as { body: string }).body).toContain("forwards only the Messages API");
      }
      for (const refused of [wrong, bearerWrong, otherUid]) {
        expect(refused).toMatchObject({ status: 401 });
        expect(JSON.parse((refused as { body: string }).body)).toMatchObject({
          type: "error",
          error: { type: "authentication_error" },
        });
      }
      expect(right).toMatchObject({ status: 200 });
      expect(peer.requests.map((r) => [r.kind, r.headers["x-api-key"]])).toEqual([["count_tokens", REAL_KEY]]);
    } finally {
      await proxy.stop();
      await peer.close();
    }
  }, 60_000);

  it("once the budget is spent, answers the CLI's next call with a clear error, reports blocked once, and keeps both over a restart", async () => {
    sink.reports.length = 0;
    const peer = await startModelPeer({ scenario: [callTools(bash("echo one > one.txt")), say("unreachable")] });
    // A dollar a token: the first answer spends the budget.
    const prices = { models: [{ match: "claude", input: 1e6, output: 1e6, cacheRead: 1e6, cacheWrite: 1e6 }] };
    const files = writeModelProxyFiles({ kind: "apiKey", value: REAL_KEY, baseUrl: peer.url }, sink.url, {
      maxCostUsd: 5,
      prices,
    });
    let proxy = await startModelProxyProcess(files);
    const home = await prepareClaudeHome({ apiKey: proxy.placeholder });
    try {
      const result = await runClaudeHeadless(home, proxy.url, "Do two things", { timeoutMs: 90_000 });
      expect(await readFile(join(home.cwd, "one.txt"), "utf8")).toBe("one\n");
      expect(peer.mainRequests().map((r) => r.turn)).toEqual([0]);
      expect(result.code).not.toBe(0);
      expect(result.stdout).toMatch(/API Error: 402 .*model budget is spent: \$\d+\.\d\d of \$5\.00 \(MAX_COST_USD\)/);
      // Shown, not retried: the proxy refused the CLI's next call once.
      expect(proxy.output().match(/the budget is spent/g)).toHaveLength(1);
      await poll(
        () => (blockedReports().length ? true : undefined),
        10_000,
        () => "a blocked report",
      );
      const [blocked] = blockedReports();
      expect(blocked!.body).toMatchObject({ kind: "status", state: "blocked", reason: "budget" });
      expect((blocked!.body as { summary: string }).summary).toMatch(/model budget is spent: \$\d+\.\d\d of \$5\.00/);
      const spent = usageReports().at(-1);
      expect(spent).toEqual(served(peer));

      // A restarted proxy neither forgets what was spent nor reports blocked again.
      await proxy.stop();
      proxy = await startModelProxyProcess(files);
      const { uid, gid } = await agentIds();
      const [again] = await requestsAs(uid, gid, [
        {
          url: `${proxy.url}/v1/messages`,
          method: "POST",
          headers: { "x-api-key": proxy.placeholder, "content-type": "application/json" },
          body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [] }),
        },
      ]);
      expect(again).toMatchObject({ status: 402 });
      expect(JSON.parse((again as { body: string }).body)).toMatchObject({
        type: "error",
        error: { type: "billing_error", message: expect.stringContaining("model budget is spent") },
      });
      await new Promise((r) => setTimeout(r, 1_000));
      expect(blockedReports()).toHaveLength(1);
      expect(peer.mainRequests()).toHaveLength(1);
    } finally {
      await proxy.stop();
      await peer.close();
      await home.cleanup();
    }
  }, 150_000);
});
