import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyBrokerReport, applyStatus } from "@thopter/hub/collector/index";
import { GitHubClients } from "@thopter/hub/github/clients";
import { Notifier, RepoInfoCache } from "@thopter/hub/notifier/index";
import { Registry } from "@thopter/hub/registry/index";
import { DurableComments, replyMarker } from "@thopter/hub/requests/durable-comments";
import { openStore, type Store } from "@thopter/hub/store/index";
import { DEFAULT_PRICES } from "@thopter/protocol";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type GithubPeer, type RequestLogEntry, startGithubPeer } from "../../peers/github/index.js";

// The notifier against the GitHub peer: one comment per report, even across restarts, posted serially and patiently;
// a thopter's queued notices coalesce into its latest, and thopters take turns.
const REPO = "acme/widgets";
const ISSUES_TOKEN = "ghp_notifierIssuesToken0123456789abcdefAB";
const CODER_TOKEN = "ghp_notifierCoderToken0123456789abcdefABC";
const HUB_URL = "https://hub.example.test";
const log = pino({ level: "silent" });

let peer: GithubPeer;
let dir: string;
let store: Store;
let issue: number;
/** When each request reached the peer (its log records only when it finished, and how long it took). */
let arrivals: (RequestLogEntry & { startedAt: number })[];
const running: { registry: Registry; notifier?: Notifier }[] = [];

beforeEach(async () => {
  peer = await startGithubPeer();
  await peer.addRepo(REPO, { issuesToken: ISSUES_TOKEN, coderToken: CODER_TOKEN, bot: { login: "thopter-bot" } });
  issue = Number(peer.createIssue(REPO, { title: "Widgets wobble", author: "alice", association: "OWNER" }).number);
  arrivals = [];
  const push = peer.requestLog.push.bind(peer.requestLog);
  peer.requestLog.push = (...entries: RequestLogEntry[]) => {
    for (const e of entries) arrivals.push({ ...e, startedAt: performance.now() - e.ms });
    return push(...entries);
  };
  dir = await mkdtemp(join(tmpdir(), "notifier-"));
  store = await openStore(`file:${dir}`);
});

afterEach(async () => {
  for (const { registry, notifier } of running.splice(0)) {
    await notifier?.stop();
    await registry.close();
  }
  await store.close();
  await peer.close();
  await rm(dir, { recursive: true, force: true });
  peer.assertClean();
});

/** A hub's worth of the parts the notifier needs, on the shared store (a new one = a restarted hub). */
async function startParts(options: { notify?: boolean } = {}) {
  const registry = await Registry.open(store, log, { checkpointMs: 3_600_000 });
  const clients = new GitHubClients({
    baseUrl: peer.url,
    issuesTokens: { [REPO]: ISSUES_TOKEN },
    log,
    retryUnitMs: 20,
  });
  const replies = new DurableComments(store, clients, log);
  const parts: { registry: Registry; notifier?: Notifier } = { registry };
  running.push(parts);
  if (options.notify !== false) {
    parts.notifier = new Notifier({
      registry,
      replies,
      clients,
      repoInfo: new RepoInfoCache(clients),
      config: { HUB_PUBLIC_URL: `${HUB_URL}/`, prices: DEFAULT_PRICES },
      log,
      retryMs: 200,
    });
    await parts.notifier.start();
  }
  return { registry, notifier: parts.notifier, replies };
}

async function working(registry: Registry, id: string, repo = REPO): Promise<void> {
  await registry.create({
    id,
    requestId: `req-${id}`,
    repo,
    issueNumber: issue,
    issueTitle: "Widgets wobble",
    branch: `thopter/${issue}--${id}`,
    gc: "default",
    prompt: "default",
    state: "requested",
    machine: null,
  });
  await registry.transition(id, "provisioning", "provisioning");
  await registry.transition(id, "booting", "machine started");
  await registry.transition(id, "working", "SessionStart");
}

function report(state: "done" | "blocked" | "needs_input", summary: string, key = `k-${state}`, pr?: string) {
  return {
    idempotencyKey: key,
    at: new Date().toISOString(),
    body: { kind: "status" as const, state, summary, ...(pr ? { pullRequestUrl: pr } : {}) },
  };
}

const comments = () => peer.comments(REPO, issue).map((c) => String(c.body));
const commentPosts = () => arrivals.filter((e) => e.method === "POST" && /\/issues\/\d+\/comments$/.test(e.path));

async function repoHtmlUrl(): Promise<string> {
  const res = await fetch(`${peer.url}/repos/${REPO}`, { headers: { authorization: `token ${ISSUES_TOKEN}` } });
  return ((await res.json()) as { html_url: string }).html_url;
}

it("posts one comment with the state, summary, branch, compare and PR links, dashboard links and duration", async () => {
  const { registry, notifier } = await startParts();
  await working(registry, "t1");
  const pr = `${await repoHtmlUrl()}/pull/1`;
  await applyBrokerReport(registry, "t1", report("done", "Fixed the wobble in `spin()`.", "k1", pr));
  // The broker's outbox may send the same report again: it is the same report.
  await applyBrokerReport(registry, "t1", report("done", "Fixed the wobble in `spin()`.", "k1", pr));
  await notifier!.idle();

  const [body, ...more] = comments();
  expect(more).toHaveLength(0);
  expect(body).toContain("Done");
  expect(body).toContain("Fixed the wobble in `spin()`.");
  expect(body).toContain(`${await repoHtmlUrl()}/compare/main...thopter/${issue}--t1`);
  expect(body).toContain(`Pull request: ${pr}`);
  expect(body).toContain(`${HUB_URL}/thopters/t1/log`);
  expect(body).toContain(`${HUB_URL}/thopters/t1/terminal`);
  expect(body).toMatch(/ran for \d+ s/);
  expect(body).toContain(replyMarker("t1/notice/").replace(" -->", ""));
});

it("announces blocked and needs_input, and a failure after boot with what to try, each once", async () => {
  const { registry, notifier } = await startParts();
  await working(registry, "t2");
  // Each a while after the last was posted: notices still queued would be coalesced into the latest.
  await applyBrokerReport(registry, "t2", report("needs_input", "Which widget size do you want?"));
  await notifier!.idle();
  await applyStatus(registry, "t2", { event: "UserPromptSubmit", state: "working", at: new Date().toISOString() });
  await applyBrokerReport(registry, "t2", report("blocked", "The test suite needs a database."));
  await notifier!.idle();
  await applyStatus(registry, "t2", { event: "UserPromptSubmit", state: "working", at: new Date().toISOString() });
  await applyStatus(registry, "t2", { event: "StopFailure", state: "failed", at: new Date().toISOString() });
  await notifier!.idle();

  const bodies = comments();
  expect(bodies).toHaveLength(3);
  expect(bodies[0]).toMatch(/Needs your input[\s\S]*Which widget size/);
  expect(bodies[1]).toMatch(/Blocked[\s\S]*needs a database[\s\S]*Pull request: none opened/);
  expect(bodies[2]).toMatch(/Failed[\s\S]*What failed: StopFailure[\s\S]*What to try/);
  expect(bodies[2]).toContain(`${HUB_URL}/thopters/t2/log`);
}, 30_000);

it("posts exactly once across restarts: after a crash before posting, and after one between post and record", async () => {
  // First hub: the report reaches the registry, then the hub dies before the notifier saw it.
  const first = await startParts({ notify: false });
  await working(first.registry, "t3");
  await applyBrokerReport(first.registry, "t3", report("done", "All green.", "k3"));

  // Second hub: its start-up sweep finds the unannounced report and posts it.
  const second = await startParts();
  await second.notifier!.idle();
  expect(comments()).toHaveLength(1);

  // The crash that matters most: posted on GitHub, but the hub died before recording it as posted.
  const [entry] = await store.list<{ posted: boolean }>("replies/");
  await store.put(entry!.key, { ...entry!.value, posted: false });
  const third = await startParts();
  await third.notifier!.idle();
  expect(await third.replies.recover()).toBe(0);
  const fourth = await startParts();
  await fourth.notifier!.idle();

  expect(comments()).toHaveLength(1);
  expect(commentPosts()).toHaveLength(1);
}, 30_000);

it("posts comments one at a time, at least a second apart", async () => {
  const { registry, notifier } = await startParts();
  for (const id of ["s1", "s2", "s3"]) await working(registry, id);
  await Promise.all(["s1", "s2", "s3"].map((id) => applyBrokerReport(registry, id, report("done", `${id} done`))));
  await notifier!.idle();

  const posts = commentPosts();
  expect(posts).toHaveLength(3);
  for (let i = 1; i < posts.length; i++) {
    const previousEnd = posts[i - 1]!.startedAt + posts[i - 1]!.ms;
    expect(posts[i]!.startedAt).toBeGreaterThanOrEqual(previousEnd);
    expect(posts[i]!.startedAt - posts[i - 1]!.startedAt).toBeGreaterThanOrEqual(1000);
  }
}, 30_000);

it("waits out a secondary rate limit's retry-after, then posts once", async () => {
  const { registry, notifier } = await startParts();
  await working(registry, "r1");
  peer.inject({ status: 403, retryAfter: 2, match: { method: "POST", path: /\/issues\/\d+\/comments$/ } });
  await applyBrokerReport(registry, "r1", report("done", "Done despite the limit."));
  await notifier!.idle();

  const posts = commentPosts();
  expect(posts.map((p) => p.status)).toEqual([403, 201]);
  expect(posts[1]!.startedAt - posts[0]!.startedAt).toBeGreaterThanOrEqual(2000);
  expect(comments()).toHaveLength(1);
  expect(peer.pendingFaults()).toBe(0);
}, 30_000);

it("skips a thopter whose repository is no longer configured, and still announces the others", async () => {
  const { registry, notifier } = await startParts();
  await working(registry, "gone-repo", "acme/retired");
  await working(registry, "kept");
  await applyBrokerReport(registry, "gone-repo", report("done", "Done somewhere else."));
  await applyBrokerReport(registry, "kept", report("done", "Done here."));
  await notifier!.idle();
  expect(comments()).toHaveLength(1);
  expect(comments()[0]).toContain("Done here.");
  expect(await store.list("replies/")).toHaveLength(1);
});

/** Alternating blocked/done reports with summaries as long as the broker allows, as an agent in a loop makes them. */
async function flood(registry: Registry, id: string, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const state = i % 2 ? "done" : "blocked";
    await applyBrokerReport(registry, id, report(state, `flood ${i} ${"x".repeat(19_900)}`, `${id}-${i}`));
  }
}

const postsOf = (id: string) => comments().filter((b) => b.includes(`thopter \`${id}\``));

it("coalesces a thopter's flood into its latest state, and posts nothing more after a restart", async () => {
  const first = await startParts();
  await working(first.registry, "fa");
  // GitHub holds the first comment for 5 s (secondary limit): the whole flood arrives while it is in flight.
  peer.inject({ status: 403, retryAfter: 5, match: { method: "POST", path: /\/issues\/\d+\/comments$/ } });
  await flood(first.registry, "fa", 0, 20);
  await first.notifier!.idle();

  // The first report, already being posted; of the nineteen that queued behind it, only the latest.
  const posted = postsOf("fa");
  expect(posted).toHaveLength(2);
  expect(posted[0]).toMatch(/Blocked[\s\S]*flood 0 /);
  expect(posted[1]).toMatch(/Done[\s\S]*flood 19 /);

  const second = await startParts();
  await second.notifier!.idle();
  expect(postsOf("fa")).toEqual(posted);
  expect(commentPosts().filter((p) => p.status === 201)).toHaveLength(2);
}, 60_000);

it("keeps another thopter's notice within one slot of its report while one thopter floods", async () => {
  const { registry, notifier } = await startParts();
  await working(registry, "fa");
  await working(registry, "fb");
  await flood(registry, "fa", 0, 10);
  // The notifier is busy with the flood when the other thopter reports, and the flood goes on.
  while (commentPosts().length === 0) await new Promise((r) => setTimeout(r, 20));
  await flood(registry, "fa", 10, 15);
  await applyBrokerReport(registry, "fb", report("done", "The other thopter is done.", "fb-done"));
  const reportedAt = performance.now();
  await flood(registry, "fa", 15, 20);
  await notifier!.idle();

  const posts = commentPosts();
  const bodies = comments();
  const other = bodies.findIndex((b) => b.includes("thopter `fb`"));
  expect(other).toBeGreaterThan(0);
  // Comments that reached GitHub after fb reported and before its own: at most the one that was in flight.
  const between = posts.slice(0, other).filter((p) => p.startedAt >= reportedAt);
  expect(between.length).toBeLessThanOrEqual(1);
  expect(postsOf("fa").at(-1)).toMatch(/flood 19 /);
}, 60_000);
