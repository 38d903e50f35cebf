import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyBrokerReport, DEFAULT_MAX_BODY_BYTES } from "@thopter/hub/collector/index";
import { GitHubClients } from "@thopter/hub/github/clients";
import { Notifier, RepoInfoCache } from "@thopter/hub/notifier/index";
import { Registry } from "@thopter/hub/registry/index";
import { DurableComments } from "@thopter/hub/requests/durable-comments";
import { openStore } from "@thopter/hub/store/index";
import { DEFAULT_PRICES } from "@thopter/protocol";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callAsAgent, postAsAgent, toolCall } from "./agent-mcp.js";
import { isRoot, REPO, startWorld, text, type World } from "./harness.js";

const BUDGET = 5;

/** Audit lines of the broker's own root-only log. */
const auditLines = (w: World) =>
  readFileSync(join(w.config.stateDir, "audit.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { tool: string; outcome: string; message: string });

/**
 * The hub's side of the reports the broker delivered: a registry and notifier on the same GitHub peer, fed what
 * the receiver kept; returns the notices posted on the issue.
 */
async function announce(w: World): Promise<string[]> {
  const log = pino({ level: "silent" });
  const dir = mkdtempSync(join(tmpdir(), "limits-hub-"));
  const store = await openStore(`file:${dir}`);
  const registry = await Registry.open(store, log, { checkpointMs: 3_600_000 });
  const clients = new GitHubClients({ baseUrl: w.peer.url, issuesTokens: { [REPO]: w.issuesToken }, log });
  const notifier = new Notifier({
    registry,
    replies: new DurableComments(store, clients, log),
    clients,
    repoInfo: new RepoInfoCache(clients),
    config: { HUB_PUBLIC_URL: "http://hub", prices: DEFAULT_PRICES },
    log,
  });
  try {
    await notifier.start();
    await registry.create({
      ...{ id: "flooder", requestId: "req-flooder", repo: REPO, issueNumber: w.issueNumber, issueTitle: "t" },
      ...{ branch: w.workBranch, gc: "default", prompt: "default", state: "requested", machine: null },
    });
    for (const state of ["provisioning", "booting", "working"] as const)
      await registry.transition("flooder", state, state);
    for (const report of w.receiver.reports) await applyBrokerReport(registry, "flooder", report);
    await notifier.idle();
  } finally {
    await notifier.stop();
    await registry.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return w.peer
    .comments(REPO, w.issueNumber)
    .map((c) => String(c.body))
    .filter((b) => b.includes("thopter `flooder`"));
}

describe.skipIf(!isRoot)(
  "broker limits: report_status and comments share one budget; the audit sees every call",
  () => {
    let w: World;
    beforeAll(async () => {
      w = await startWorld({ limits: { rates: { comments: { max: BUDGET, windowMs: 600_000 } } } });
    });
    afterAll(() => w?.close());

    it("takes the largest valid comment (65,536 two-byte characters), which the SDK's 100 kB body parser refused", async () => {
      const result = await w.call("comment_on_issue", { body: "é".repeat(65_536) });
      expect(result.isError, text(result)).toBeFalsy();
      expect(w.peer.comments(REPO, w.issueNumber).map((c) => String(c.body).length)).toEqual([65_536]);
    });

    it("a flood of alternating blocked/done reports with huge summaries makes at most the budgeted comments", async () => {
      const results = [];
      for (let i = 0; i < 20; i++) {
        const state = i % 2 ? "done" : "blocked";
        const summary = `${state} ${i} ${"z".repeat(19_980)}`;
        results.push(await callAsAgent(w, "report_status", { state, summary }));
      }
      // One unit went to the comment above.
      expect(results.filter((r) => !r.isError)).toHaveLength(BUDGET - 1);
      const refused = results.at(-1)!;
      expect(refused.isError).toBe(true);
      expect(text(refused)).toMatch(/Comment limit reached: report_status done counts against 5 issue comments per 10/);
      expect(text(refused)).toMatch(/Try again after \d{4}-\d\d-\d\dT[\d:.]+Z \(in \d+ s\)/);

      // Progress notes post nothing on the issue and stay free; the spent budget also closes comment_on_issue.
      const note = await callAsAgent(w, "report_status", { state: "working", summary: "still here" });
      expect(note.isError, text(note)).toBeFalsy();
      const comment = await callAsAgent(w, "comment_on_issue", { body: "one more thing" });
      expect(comment.isError).toBe(true);
      expect(text(comment)).toMatch(/Comment limit reached: a comment/);
      expect(w.peer.comments(REPO, w.issueNumber)).toHaveLength(1);

      await w.receiver.waitFor((r) => r.filter((x) => x.body.kind === "audit").length >= 23);
      const announced = w.receiver.reports.filter((r) => r.body.kind === "status" && r.body.state !== "working");
      expect(announced).toHaveLength(BUDGET - 1);
      const refusedAudits = w.receiver.reports.filter((r) => r.body.kind === "audit" && r.body.outcome === "refused");
      expect(refusedAudits).toHaveLength(20 - (BUDGET - 1) + 1);

      // What reached the hub becomes at most that many comments on the issue (fewer: queued notices coalesce).
      const notices = await announce(w);
      expect(notices.length).toBeGreaterThanOrEqual(1);
      expect(notices.length).toBeLessThanOrEqual(BUDGET - 1);
      const last = announced.at(-1)!.body;
      expect(notices.at(-1)).toContain(last.kind === "status" ? last.summary.slice(0, 40) : "?");
      expect(w.peer.comments(REPO, w.issueNumber).length).toBeLessThanOrEqual(BUDGET);
    });

    it("refuses arguments nested 30,000 deep before walking them, audits the refusal, and keeps serving", async () => {
      const deep = `{"state":"done","summary":${"[".repeat(30_000)}${"]".repeat(30_000)}}`;
      const answer = await postAsAgent(w, toolCall("report_status", deep));
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.text)).toMatchObject({
        id: 7,
        error: { message: expect.stringMatching(/deeper than 32/) },
      });

      const entry = auditLines(w).find((l) => l.tool === "report_status" && /deeper than 32/.test(l.message));
      expect(entry?.outcome).toBe("refused");
      await w.receiver.waitFor((r) =>
        r.some((x) => x.body.kind === "audit" && x.body.outcome === "refused" && /deeper/.test(x.body.message)),
      );

      const ok = await w.call("get_issue");
      expect(ok.isError, text(ok)).toBeFalsy();
    });

    it("audits a call with 40,000 argument fields in an entry the hub's collector accepts", async () => {
      const wide = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`k${i}`, "v"]));
      const refused = await callAsAgent(w, "get_issue", wide);
      expect(refused.isError).toBe(true);
      await w.receiver.waitFor((r) =>
        r.some((x) => x.body.kind === "audit" && x.body.tool === "get_issue" && "truncated" in x.body.args),
      );
      const entry = w.receiver.reports.find((x) => x.body.kind === "audit" && "truncated" in x.body.args)!;
      expect(Buffer.byteLength(JSON.stringify(entry))).toBeLessThan(DEFAULT_MAX_BODY_BYTES);
    });

    it("refuses an oversized or garbled request without parsing it, and audits that too", async () => {
      const big = toolCall("comment_on_issue", JSON.stringify({ body: "é".repeat(300_000) }));
      const answer = await postAsAgent(w, big);
      expect(answer.status).toBe(413);
      expect(answer.text).toMatch(/larger than 524288 bytes/);
      const entry = auditLines(w).find((l) => /larger than 524288 bytes/.test(l.message));
      expect(entry).toMatchObject({ tool: "(unparsed request)", outcome: "refused" });

      const garbled = await postAsAgent(w, '{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{');
      expect(garbled.status).toBe(400);
      expect(garbled.text).toMatch(/not valid JSON/);
      expect(auditLines(w).some((l) => /not valid JSON/.test(l.message))).toBe(true);
    });
  },
);
