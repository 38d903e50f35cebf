import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configSecrets, loadConfig } from "@thopter/hub/config";
import { HUB_PERMISSIONS, THOPTER_PERMISSIONS } from "@thopter/hub/github/app";
import { type Hub, startHub } from "@thopter/hub/hub";
import { createLogger } from "@thopter/hub/log";
import { afterEach, describe, expect, it } from "vitest";
import { type GithubPeer, startGithubPeer } from "../../peers/github/index.js";
import { eyes, hubEnv, REPO, requests } from "./harness.js";

/** The hub's own GitHub calls with a GitHub App: installation tokens for one repository, as `<slug>[bot]`. */

const NOT_INSTALLED = "acme/gadgets";
const BOT = "thopter-swarm[bot]";

let peer: GithubPeer;
let hub: Hub;
let logs: string[];
let dir: string;
let key: string;

async function start(peerClockOffsetMs = 0): Promise<number> {
  peer = await startGithubPeer({ now: () => new Date(Date.now() + peerClockOffsetMs) });
  for (const [i, repo] of [REPO, NOT_INSTALLED].entries()) {
    await peer.addRepo(repo, {
      issuesToken: `unused-issues-${i}`,
      coderToken: `unused-coder-${i}`,
      bot: { login: "pat-bot" },
    });
  }
  const app = peer.apps.create("thopter-swarm", "acme");
  key = app.privateKey;
  peer.apps.install(app.appId, [REPO], { ...HUB_PERMISSIONS, ...THOPTER_PERMISSIONS });
  const issue = Number(peer.createIssue(REPO, { title: "Wobble", author: "alice", association: "OWNER" }).number);
  dir = await mkdtemp(join(tmpdir(), "hub-app-"));
  const config = loadConfig(
    hubEnv(peer.url, dir, {
      GITHUB_INTEGRATION_JSON: JSON.stringify({
        repositories: { [REPO]: {}, [NOT_INSTALLED]: {} },
        agentUser: { name: BOT, email: `${app.appId}+${BOT}@users.noreply.github.com` },
      }),
      GITHUB_APP_ID: String(app.appId),
      GITHUB_APP_PRIVATE_KEY: app.privateKey.replace(/\n/g, "\\n"),
    }),
  );
  logs = [];
  const log = createLogger({
    level: "debug",
    secrets: configSecrets(config),
    destination: { write: (line: string) => void logs.push(line) },
  });
  hub = await startHub(config, { log, retryUnitMs: 20, thopters: false });
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

describe("hub with a GitHub App", () => {
  it("polls and reacts with an installation token, as the App's bot; its own commands are ignored", async () => {
    const issue = await start();
    const id = Number(peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" }).id);
    peer.addComment(REPO, issue, { body: "/thopter", author: BOT, association: "NONE" });
    await hub.pollNow();
    await hub.pollNow();
    expect(eyes(peer, { comment: id })).toBe(1);
    expect(peer.reactions(REPO, { comment: id })[0]).toMatchObject({ user: { login: BOT } });
    const stored = await requests(hub.url);
    expect(stored.map((r) => r.source.author)).toEqual(["alice"]);
    // Tokens were minted for this repository only, with the hub's permissions.
    const mints = peer.requestLog.filter((r) => r.path.endsWith("/access_tokens"));
    expect(mints.length).toBeGreaterThan(0);
    expect(mints.every((r) => r.status === 201)).toBe(true);
  });

  it("names a repository the App is not installed on at start, and keeps serving the others", async () => {
    await start();
    expect(logs.some((l) => l.includes(`the GitHub App is not installed on ${NOT_INSTALLED}: install it there`))).toBe(
      true,
    );
    await hub.pollNow();
    expect(logs.some((l) => l.includes('"msg":"poll cycle failed') && l.includes(REPO + '"'))).toBe(false);
  });

  it("says its clock is off when GitHub refuses its JWT for skew (and works, corrected by GitHub's Date)", async () => {
    const issue = await start(15 * 60 * 1000);
    const id = Number(peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" }).id);
    await hub.pollNow();
    expect(logs.some((l) => /the hub's clock is off by -?9\d\d s from GitHub's/.test(l))).toBe(true);
    expect(eyes(peer, { comment: id })).toBe(1);
  });
});
