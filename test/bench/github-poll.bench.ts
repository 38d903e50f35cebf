// GitHub requests that count against the rate limit, per poll cycle, with 1, 100 and 1,000 open issues on the peer,
// beside what the first version's strategy (list updated issues, then 2 calls per updated issue) would make.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Octokit } from "@octokit/core";
import { loadConfig } from "@thopter/hub/config";
import { startHub } from "@thopter/hub/hub";
import { createLogger } from "@thopter/hub/log";
import { assertNoProcessesMentioning } from "../helpers/leftovers.js";
import { HUMAN_TOKEN, pushFiles } from "../integration/github-peer/harness.js";
import { BOT, CODER_TOKEN, hubEnv, ISSUES_TOKEN, REPO } from "../integration/hub/harness.js";
import { type GithubPeer, startGithubPeer } from "../peers/github/index.js";
import type { Bench, BenchRow } from "./bench.js";

const SIZES = [1, 100, 1000];
/** Listing requests the watcher makes; anything else in a cycle is the hub acting on a command (title, 👀). */
const WATCHER_ROUTES = [
  "GET /repos/{owner}/{repo}/issues/comments",
  "GET /repos/{owner}/{repo}/pulls/comments",
  "GET /repos/{owner}/{repo}/issues",
];
/** The first version re-fetched each updated issue about three times: its window spans about three cycles. */
const FIRST_VERSION_WINDOW_CYCLES = 3;
const POLL_INTERVAL_MS = 5000;

function counted(peer: GithubPeer, routes?: string[]): number {
  const stats = peer.stats();
  if (!routes) return stats.rateLimited;
  // byRoute counts every request; 304s are the only free ones on these routes.
  const requests = routes.reduce((sum, r) => sum + (stats.byRoute[r] ?? 0), 0);
  return requests - stats.notModified;
}

/** What the first version would spend on one cycle over the same data: 1 + 2 × issues updated in its window. */
function firstVersionCost(peer: GithubPeer, at: number): number {
  const since = at - FIRST_VERSION_WINDOW_CYCLES * POLL_INTERVAL_MS - 1000;
  let updated = 0;
  for (let n = 1; peer.issue(REPO, n); n++) {
    const issue = peer.issue(REPO, n)!;
    if (issue.state === "open" && Date.parse(String(issue.updated_at)) >= since) updated++;
  }
  return 1 + 2 * updated;
}

/** A thopter's draft PR (a branch pushed, the PR opened with the coder token); its number. */
async function thopterPull(peer: GithubPeer): Promise<number> {
  peer.addUser("acme", { token: HUMAN_TOKEN });
  await pushFiles(peer, "thopter/1--bench", { "fix.txt": "fixed\n" }, "Fix", REPO);
  const [owner, repo] = REPO.split("/") as [string, string];
  const coder = new Octokit({ baseUrl: peer.url, auth: CODER_TOKEN });
  const body = { owner, repo, head: "thopter/1--bench", base: "main", title: "Fix", draft: true };
  return (await coder.request("POST /repos/{owner}/{repo}/pulls", body)).data.number;
}

async function measure(openIssues: number): Promise<BenchRow[]> {
  const peer = await startGithubPeer();
  const dir = await mkdtemp(join(tmpdir(), "bench-poll-"));
  await peer.addRepo(REPO, { issuesToken: ISSUES_TOKEN, coderToken: CODER_TOKEN, bot: { login: BOT } });
  for (let i = 1; i <= openIssues; i++) {
    peer.createIssue(REPO, { title: `Issue ${i}`, body: "Something is off.", author: "alice", association: "OWNER" });
  }
  const config = loadConfig(hubEnv(peer.url, dir, { LOG_LEVEL: "silent" }));
  // Intake only: the watcher's cost is the measure; a thopter per command would only outlive the bench.
  const hub = await startHub(config, { log: createLogger({ level: "silent" }), thopters: false, announce: () => {} });
  const area = `github poll, ${openIssues} open issue${openIssues === 1 ? "" : "s"}`;
  /** One poll cycle: counted requests by the watcher's listings and in all, and the first version's cost. */
  const cycle = async () => {
    peer.resetStats();
    await hub.pollNow();
    const watcher = counted(peer, WATCHER_ROUTES);
    return { watcher, acting: counted(peer) - watcher, firstVersion: firstVersionCost(peer, Date.now()) };
  };
  try {
    await hub.pollNow();
    const idle = await cycle();
    // On issue #1: for 1 open issue that is also the newest issue, whose probe then changes too.
    peer.addComment(REPO, 1, { body: "/thopter", author: "alice", association: "OWNER" });
    const comment = await cycle();
    const next = await cycle();
    peer.createIssue(REPO, { title: "New", body: "/thopter -p plan", author: "alice", association: "OWNER" });
    const body = await cycle();
    // A thopter's PR with a /thopter line comment: the line-comment window sees it, then goes back to 304s.
    const pull = await thopterPull(peer);
    // A later issue, so the PR is not the newest (the newest-issue probe would see its line comment too).
    peer.createIssue(REPO, { title: "Later", body: "unrelated", author: "alice", association: "OWNER" });
    await hub.pollNow();
    const owner = { author: "alice", association: "OWNER" as const };
    await peer.reviews.addComment(REPO, pull, { body: "/thopter", ...owner, path: "fix.txt", line: 1 });
    const line = await cycle();
    await hub.pollNow(); // the 👀 changes the line-comment listing
    const idleWithPulls = await cycle();
    if ((await hub.queue.list()).length !== 3)
      throw new Error("the three commands did not become exactly three requests");
    peer.assertClean();
    const onNewest = openIssues === 1;
    return [
      {
        area,
        metric: "idle cycle",
        value: idle.watcher + idle.acting,
        unit: "req",
        target: "0",
        ok: idle.watcher + idle.acting === 0,
      },
      {
        area,
        metric: "cycle with a new /thopter comment (watcher)",
        value: comment.watcher,
        unit: "req",
        // A comment changes its issue: when that is the newest issue, the conditional probe for new issues is no 304.
        target: onNewest ? "2 per repo (on the newest issue)" : "1 per repo",
        ok: comment.watcher === (onNewest ? 2 : 1),
      },
      {
        area,
        metric: "cycle with a new /thopter issue (watcher)",
        value: body.watcher,
        unit: "req",
        target: "1 per repo",
        ok: body.watcher === 1,
      },
      {
        area,
        metric: "cycle with a new /thopter line comment on a PR (watcher)",
        value: line.watcher,
        unit: "req",
        target: "1 per repo",
        ok: line.watcher === 1,
      },
      {
        area,
        metric: "idle cycle with PR review comments watched",
        value: idleWithPulls.watcher + idleWithPulls.acting,
        unit: "req",
        target: "0",
        ok: idleWithPulls.watcher + idleWithPulls.acting === 0,
      },
      {
        area,
        metric: "first version, same cycles (1 + 2 × updated issues)",
        value: `${idle.firstVersion} / ${comment.firstVersion} / ${body.firstVersion}`,
        unit: "req (idle / comment / issue)",
      },
      {
        area,
        metric: "acting on a command (title, 👀; bot login once)",
        value: `${comment.acting} / ${body.acting}`,
        unit: "req (comment / issue)",
      },
      {
        area,
        metric: "cycle after a command (the 👀 changes the listing)",
        value: next.watcher + next.acting,
        unit: "req",
      },
    ];
  } finally {
    await hub.stop();
    await peer.close();
    await rm(dir, { recursive: true, force: true });
    await assertNoProcessesMentioning(dir);
  }
}

async function measureAll(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const size of SIZES) rows.push(...(await measure(size)));
  return rows;
}

const bench: Bench = {
  name: "github-poll",
  run: measureAll,
  // Every row is a count of requests: all of them run in CI.
  counts: measureAll,
};
export default bench;
