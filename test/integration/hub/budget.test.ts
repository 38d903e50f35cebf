import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@thopter/hub/config";
import { type Hub, startHub } from "@thopter/hub/hub";
import { createLogger } from "@thopter/hub/log";
import { type BrokerReport, costOf, DEFAULT_PRICES, type ModelUsage } from "@thopter/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GithubPeer, startGithubPeer } from "../../peers/github/index.js";
import { brokerReporter } from "./broker-reports.js";
import { BOT, CODER_TOKEN, hubEnv, ISSUES_TOKEN, REPO, replies, until } from "./harness.js";
import { RecordingProvider } from "./recording-provider.js";

// The hub's side of budgets, through its real collector, notifier, reaper and Stopper, with a provider that only
// records: the model proxy's reports (usage, then `blocked` for the budget) are posted with the broker's token.
const MODEL = "claude-sonnet-4-5-20250929";
const USAGE: ModelUsage = { [MODEL]: { input: 120_000, output: 40_000, cacheRead: 300_000, cacheWrite: 20_000 } };
const COST = costOf(USAGE, DEFAULT_PRICES).usd;

let peer: GithubPeer;
let dir: string;
let provider: RecordingProvider;
let hub: Hub | undefined;
let issue: number;

beforeEach(async () => {
  peer = await startGithubPeer();
  await peer.addRepo(REPO, { issuesToken: ISSUES_TOKEN, coderToken: CODER_TOKEN, bot: { login: BOT } });
  issue = Number(peer.createIssue(REPO, { title: "Costly", author: "alice", association: "OWNER" }).number);
  dir = await mkdtemp(join(tmpdir(), "hub-budget-"));
  provider = new RecordingProvider();
});
afterEach(async () => {
  await hub?.stop();
  hub = undefined;
  peer.assertClean();
  await peer.close();
  await rm(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<Hub> {
  hub = await startHub(loadConfig(hubEnv(peer.url, dir, env)), {
    log: createLogger({ level: "silent" }),
    announce: () => {},
    provider,
    entrypoint: ["/bin/true"],
    retryUnitMs: 20,
  });
  return hub;
}

/** `/thopter` on the issue; resolves with the thopter made for it and its broker-role collector token. */
async function command(h: Hub): Promise<{ id: string; report: (body: BrokerReport["body"]) => Promise<unknown> }> {
  const made = provider.specs.length;
  peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" });
  await h.pollNow();
  await until(() => provider.specs.length > made, 20_000, "provider.create");
  const spec = provider.specs.at(-1)!;
  return { id: spec.thopterId, report: brokerReporter(h, spec) };
}

const budgetComments = () => replies(peer, issue).filter((r) => r.startsWith("💸 **Budget spent**"));
const settle = () => new Promise((r) => setTimeout(r, 1_500));

describe("a thopter whose budget is spent", () => {
  it("gets one comment with what it spent, is stopped after the grace, and no restart comments again", async () => {
    const env = { MAX_COST_USD: "1", BUDGET_GRACE_MIN: "0.1" };
    let h = await start(env);
    const t = await command(h);
    await t.report({ kind: "usage", models: USAGE });
    const blocked: BrokerReport["body"] = {
      kind: "status",
      state: "blocked",
      summary: "Budget spent: model calls refused.",
      reason: "budget",
    };
    await t.report(blocked);
    const comment = await until(() => budgetComments()[0], 20_000, "the budget comment");
    expect(comment).toContain(`Spent: **$${COST.toFixed(2)}** of its $1.00 budget (\`MAX_COST_USD\`)`);
    expect(comment).toContain("counted by the model proxy");
    expect(comment).toContain(`| \`${MODEL}\` | 120,000 | 40,000 | 300,000 | 20,000 | $${COST.toFixed(2)} |`);
    expect(comment).toMatch(/It stops 0\.1 min after this/);

    // A restarted proxy says so again: still one comment, and the grace runs from the first report.
    await t.report(blocked);
    const spentAt = h.thopters!.registry.get(t.id)!.budgetSpentAt!;
    await h.thopters!.reaper.reap();
    expect(h.thopters!.registry.get(t.id)?.state).toBe("blocked");
    expect(await provider.list()).toHaveLength(1);

    await until(() => Date.now() - Date.parse(spentAt) > 6_000, 20_000, "the grace to pass");
    await h.thopters!.reaper.reap();
    const record = h.thopters!.registry.get(t.id)!;
    expect(record.state).toBe("gone");
    expect(record.timeline.find((e) => e.state === "stopping")?.message).toMatch(
      /model budget \(MAX_COST_USD\) is spent/,
    );
    expect(await provider.list()).toEqual([]);

    await h.stop();
    h = await start(env);
    await h.pollNow();
    await settle();
    expect(budgetComments()).toHaveLength(1);
  }, 90_000);

  it("is not stopped early without the budget report, however blocked it is", async () => {
    const h = await start({ MAX_COST_USD: "1", BUDGET_GRACE_MIN: "0.01" });
    const t = await command(h);
    await t.report({ kind: "status", state: "blocked", summary: "Budget spent (or so the agent says)." });
    await until(() => replies(peer, issue).some((r) => r.includes("Blocked")), 20_000, "the blocked comment");
    await settle();
    await h.thopters!.reaper.reap();
    expect(h.thopters!.registry.get(t.id)?.state).toBe("blocked");
    expect(budgetComments()).toEqual([]);
  }, 60_000);
});

describe("the swarm's daily budget", () => {
  it("stops running thopters with a comment and answers a new /thopter once, saying when it resets", async () => {
    const h = await start({ MAX_DAILY_COST_USD: String(Math.floor(COST * 100) / 100) });
    const t = await command(h);
    await t.report({ kind: "usage", models: USAGE });
    await h.thopters!.reaper.reap();
    expect(h.thopters!.registry.get(t.id)?.state).toBe("gone");
    const stopped = await until(
      () => replies(peer, issue).find((r) => r.includes("🛑 **Stopped**")),
      20_000,
      "the stop comment",
    );
    expect(stopped).toMatch(/the swarm's daily budget \(MAX_DAILY_COST_USD\) is spent \(\$\d+\.\d\d of \$\d+\.\d\d\)/);
    expect(stopped).toContain(`| \`${MODEL}\` | 120,000 |`);

    const before = replies(peer, issue).length;
    peer.addComment(REPO, issue, { body: "/thopter try again", author: "alice", association: "OWNER" });
    await h.pollNow();
    const refusal = await until(
      () => replies(peer, issue).find((r) => r.includes("budget for today is spent")),
      20_000,
      "the refusal",
    );
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(refusal).toContain(`It resets at ${tomorrow} 00:00 UTC`);
    await h.pollNow();
    await settle();
    expect(replies(peer, issue)).toHaveLength(before + 1);
    expect(provider.specs).toHaveLength(1);
  }, 60_000);
});
