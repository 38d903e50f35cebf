import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@thopter/hub/config";
import { HUB_PERMISSIONS, THOPTER_PERMISSIONS } from "@thopter/hub/github/app";
import { type Hub, type HubDeps, startHub } from "@thopter/hub/hub";
import { THOPTER_PATHS } from "@thopter/hub/scheduler/spec";
import { afterEach, describe, expect, it } from "vitest";
import { type GithubPeer, startGithubPeer } from "../../peers/github/index.js";
import { octokit } from "../github-peer/harness.js";
import { eyes, hubEnv, hubGet, REPO, recordingLogger, requests, until } from "./harness.js";
import { RecordingProvider } from "./recording-provider.js";

/** The hub's own GitHub calls with a GitHub App: installation tokens for one repository, as `<slug>[bot]`. */

const NOT_INSTALLED = "acme/gadgets";
/** Covered by the installation, but not one the hub serves: a thopter's token must not reach it. */
const SIBLING = "acme/sprockets";
const BOT = "thopter-swarm[bot]";

let peer: GithubPeer;
let hub: Hub;
let logs: string[];
let dir: string;
let key: string;
/** Stops the hub (its machines keep running) and starts it again on the same store. */
let restart: () => Promise<void>;

async function start(peerClockOffsetMs = 0, deps: HubDeps = { thopters: false }): Promise<number> {
  peer = await startGithubPeer({ now: () => new Date(Date.now() + peerClockOffsetMs) });
  for (const [i, repo] of [REPO, NOT_INSTALLED, SIBLING].entries()) {
    await peer.addRepo(repo, {
      issuesToken: `unused-issues-${i}`,
      coderToken: `unused-coder-${i}`,
      bot: { login: "pat-bot" },
    });
  }
  const app = peer.apps.create("thopter-swarm", "acme");
  key = app.privateKey;
  peer.apps.install(app.appId, [REPO, SIBLING], { ...HUB_PERMISSIONS, ...THOPTER_PERMISSIONS });
  const issue = Number(peer.createIssue(REPO, { title: "Wobble", author: "alice", association: "OWNER" }).number);
  dir = await mkdtemp(join(tmpdir(), "hub-app-"));
  const config = loadConfig(
    hubEnv(peer.url, dir, {
      GITHUB_INTEGRATION_JSON: JSON.stringify({
        repositories: { [REPO]: {}, [NOT_INSTALLED]: {} },
        // Not the bot: App repositories take the bot identity from GitHub.
        agentUser: { name: "Config Bot", email: "config-bot@example.com" },
      }),
      GITHUB_APP_ID: String(app.appId),
      GITHUB_APP_PRIVATE_KEY: app.privateKey.replace(/\n/g, "\\n"),
    }),
  );
  const recorded = recordingLogger(config);
  logs = recorded.logs;
  const { log } = recorded;
  restart = async () => {
    await hub.stop();
    hub = await startHub(config, { log, retryUnitMs: 20, ...deps });
  };
  hub = await startHub(config, { log, retryUnitMs: 20, ...deps });
  return issue;
}

afterEach(async () => {
  await hub?.stop();
  peer.assertClean();
  await peer.close();
  await rm(dir, { recursive: true, force: true });
  // The App's key is a secret: never in a log line.
  expect(logs.join("\n")).not.toContain(key.split("\n")[1]);
});

/** Provisions one thopter (RecordingProvider: its spec is kept) and reads its files. */
async function provisionOne() {
  const provider = new RecordingProvider();
  const issue = await start(0, { provider, entrypoint: ["/bin/true"], thopters: undefined });
  peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" });
  await hub.pollNow();
  await until(() => provider.specs.length === 1, 20_000, "a thopter provisioned");
  const spec = provider.specs[0]!;
  const file = (path: string) => spec.files.find((f) => f.path === path)!;
  const text = (path: string) => Buffer.from(file(path).contentBase64, "base64").toString("utf8");
  return { spec, file, text };
}

/** The status GitHub answers a token listing `repo`'s issues. */
const issues = (token: string, repo: string) =>
  octokit(peer, token)
    .request("GET /repos/{owner}/{repo}/issues", { owner: "acme", repo: repo.split("/")[1]! })
    .then(
      (r) => r.status,
      (e: { status: number }) => e.status,
    );

/** The broker's renewal call on the collector. */
const renew = (bearer: string) =>
  fetch(`${hub.thopters!.collector.url}/v1/github-token`, {
    method: "POST",
    headers: { authorization: `Bearer ${bearer}` },
  });

describe("hub with a GitHub App", () => {
  it("polls and reacts with an installation token, as the App's bot; its own commands are ignored", async () => {
    const issue = await start();
    const id = Number(peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" }).id);
    peer.addComment(REPO, issue, { body: "/thopter", author: BOT, association: "NONE" });
    await hub.pollNow();
    await hub.pollNow();
    expect(eyes(peer, { comment: id })).toBe(1);
    expect(peer.reactions(REPO, { comment: id })[0]).toMatchObject({ user: { login: BOT } });
    const stored = await requests(hub);
    expect(stored.map((r) => r.source.author)).toEqual(["alice"]);
    // Tokens were minted for this repository only, with the hub's permissions.
    const mints = peer.requestLog.filter((r) => r.path.endsWith("/access_tokens"));
    expect(mints.length).toBeGreaterThan(0);
    expect(mints.every((r) => r.status === 201)).toBe(true);
  });

  it("names a repository the App is not installed on at start and on the dashboard, and keeps serving the others", async () => {
    await start(0, { provider: new RecordingProvider(), entrypoint: ["/bin/true"], thopters: undefined });
    const page = await (await hubGet(hub, "/")).text();
    expect(page).toContain(`The GitHub App is not installed on ${NOT_INSTALLED}: install it there`);
    expect(logs.some((l) => l.includes(`the GitHub App is not installed on ${NOT_INSTALLED}: install it there`))).toBe(
      true,
    );
    await hub.pollNow();
    expect(logs.some((l) => l.includes('"msg":"poll cycle failed') && l.includes(`${REPO}"`))).toBe(false);
  });

  it("says its clock is off when GitHub refuses its JWT for skew (and works, corrected by GitHub's Date)", async () => {
    const issue = await start(15 * 60 * 1000, {
      provider: new RecordingProvider(),
      entrypoint: ["/bin/true"],
      thopters: undefined,
    });
    const id = Number(peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" }).id);
    await hub.pollNow();
    expect(logs.some((l) => /the hub's clock is off by -?9\d\d s from GitHub's/.test(l))).toBe(true);
    expect(eyes(peer, { comment: id })).toBe(1);
    expect(await (await hubGet(hub, "/")).text()).toMatch(/clock is off by -?9\d\d s from GitHub/);
  });

  it("gives each thopter its own token for its repository, renews it over the collector, revokes them at stop", async () => {
    const { spec, file, text } = await provisionOne();
    expect(file(THOPTER_PATHS.coderToken)).toMatchObject({ owner: "root", mode: 0o600 });
    const token = text(THOPTER_PATHS.coderToken);
    expect(token).toMatch(/^ghs_/);
    expect(JSON.stringify(spec.env)).not.toContain(token);
    // The agent's commits carry the App's bot identity.
    const job = JSON.parse(text(THOPTER_PATHS.config)) as { agentUser: { name: string; email: string } };
    const botId = (await octokit(peer, token).request("GET /users/{username}", { username: BOT })).data.id;
    expect(job.agentUser).toEqual({ name: BOT, email: `${botId}+${BOT}@users.noreply.github.com` });
    expect(await issues(token, REPO)).toBe(200);
    expect(await issues(token, SIBLING)).toBe(404);

    // The broker renews with its collector token; the observer's status token cannot.
    const brokerToken = text(THOPTER_PATHS.reportToken);
    expect((await renew(text(THOPTER_PATHS.statusToken))).status).toBe(401);
    const renewed = (await (await renew(brokerToken)).json()) as { token: string; expiresAt: string };
    expect(renewed.token).toMatch(/^ghs_/);
    expect(renewed.token).not.toBe(token);
    expect(await issues(renewed.token, REPO)).toBe(200);
    expect(await issues(renewed.token, SIBLING)).toBe(404);

    // A flood of renewals (a broker gone wrong) is cut off after a small burst: the hub does not mint without bound.
    const flood = await Promise.all(Array.from({ length: 10 }, () => renew(brokerToken).then((r) => r.status)));
    expect(flood.filter((st) => st === 200)).toHaveLength(4); // the burst of 5, one already used above
    expect(flood.filter((st) => st === 429)).toHaveLength(6);

    await hub.thopters!.stopper.stop(spec.thopterId, "test");
    expect(await issues(token, REPO)).toBe(401);
    expect(await issues(renewed.token, REPO)).toBe(401);
    // A stopped thopter's broker token no longer renews anything.
    expect((await renew(brokerToken)).status).toBe(401);
  });

  it("after a hub restart, a live thopter's broker still renews, and stop revokes what it got since", async () => {
    const { spec, text } = await provisionOne();
    await until(() => hub.thopters!.registry.get(spec.thopterId)?.machine, 10_000, "its machine recorded");
    await restart();
    const res = await renew(text(THOPTER_PATHS.reportToken));
    expect(res.status).toBe(200);
    const renewed = ((await res.json()) as { token: string }).token;
    expect(await issues(renewed, REPO)).toBe(200);
    await hub.thopters!.stopper.stop(spec.thopterId, "test");
    expect(await issues(renewed, REPO)).toBe(401);
  });
});
