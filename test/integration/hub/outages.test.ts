import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@thopter/hub/config";
import { MAX_RETRIES } from "@thopter/hub/github/octokit";
import { type Hub, type HubDeps, startHub } from "@thopter/hub/hub";
import { createLogger } from "@thopter/hub/log";
import { describe, expect, it } from "vitest";
import { type GithubPeer, startGithubPeer } from "../../peers/github/index.js";
import { Gate } from "./gate.js";
import { BOT, CODER_TOKEN, eyes, hubEnv, ISSUES_TOKEN, REPO, requests, setup } from "./harness.js";

/** A peer, a Gate in front of it and an in-process hub against the gate, for `run`; all closed afterwards. */
async function withGatedHub(
  deps: Partial<HubDeps>,
  run: (ctx: { peer: GithubPeer; gate: Gate; hub: Hub; issue: number }) => Promise<void>,
): Promise<void> {
  const peer = await startGithubPeer();
  await peer.addRepo(REPO, { issuesToken: ISSUES_TOKEN, coderToken: CODER_TOKEN, bot: { login: BOT } });
  const issue = Number(peer.createIssue(REPO, { title: "Gated", author: "alice", association: "OWNER" }).number);
  const gate = await Gate.start(peer.url);
  const dir = await mkdtemp(join(tmpdir(), "hub-gated-"));
  const hub = await startHub(loadConfig(hubEnv(gate.url, dir)), { log: createLogger({ level: "silent" }), ...deps });
  try {
    await run({ peer, gate, hub, issue });
    peer.assertClean();
  } finally {
    await hub.stop();
    await gate.close();
    await peer.close();
    await rm(dir, { recursive: true, force: true });
  }
}

// Each test builds its own peer and hub: they need a peer clock, a small rate limit, or faults before the first start.
describe("hub across GitHub outages and exhausted limits", () => {
  it("does not hang on an exhausted primary rate limit, and catches up after the reset", async () => {
    let offset = 0;
    // Start-up takes 2 requests, the command cycle 3 more (listing, bot login, title): the 👀 is over the limit.
    const limited = await setup({}, { rateLimit: 5, now: () => new Date(Date.now() + offset) });
    try {
      const id = Number(
        limited.peer.addComment(REPO, limited.issue, { body: "/thopter", author: "alice", association: "OWNER" }).id,
      );
      const started = Date.now();
      await limited.hub.pollNow();
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(await requests(limited.hub.url)).toMatchObject([{ source: { commentId: id }, acknowledged: false }]);
      expect(limited.logs.some((l) => l.includes("GitHub primary rate limit hit"))).toBe(true);

      offset += 3_601_000; // the peer's rate-limit window resets
      await limited.hub.pollNow();
      expect(await requests(limited.hub.url)).toMatchObject([{ source: { commentId: id }, acknowledged: true }]);
      expect(eyes(limited.peer, { comment: id })).toBe(1);
      limited.peer.assertClean();
    } finally {
      await limited.close();
    }
  });

  it("still sees issues opened while GitHub was unreachable at its very first start", async () => {
    const down = await setup({}, undefined, (peer) => {
      // Every try of the first cycle fails: the hub starts without a baseline.
      peer.inject({ status: 500, times: 1 + MAX_RETRIES, match: { method: "GET" } });
    });
    try {
      expect(down.peer.pendingFaults()).toBe(0);
      expect(down.logs.some((l) => l.includes("poll cycle failed"))).toBe(true);
      await new Promise((r) => setTimeout(r, 1100)); // a later second than the hub's first start
      const n = Number(
        down.peer.createIssue(REPO, { title: "During outage", body: "/thopter", author: "alice", association: "OWNER" })
          .number,
      );
      await down.hub.pollNow();
      expect(await requests(down.hub.url)).toMatchObject([{ source: { issueNumber: n, commentId: null } }]);
      down.peer.assertClean();
    } finally {
      await down.close();
    }
  });

  it("gives up on a GitHub that never answers, keeps serving, and catches up once it answers", async () => {
    await withGatedHub({ retryUnitMs: 20, requestTimeoutMs: 300 }, async ({ peer, gate, hub, issue }) => {
      gate.freeze("GET", /\/issues\/comments\?/, "request");
      const id = Number(peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" }).id);
      const started = Date.now();
      await hub.pollNow();
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(gate.held).toBe(1 + MAX_RETRIES);
      expect(await (await fetch(`${hub.url}/healthz`)).json()).toMatchObject({ status: "degraded" });

      gate.open();
      await hub.pollNow();
      expect(await requests(hub.url)).toMatchObject([{ source: { commentId: id }, acknowledged: true }]);
    });
  });

  it("skips a command whose issue GitHub will not show (404) instead of retrying it forever", async () => {
    await withGatedHub({}, async ({ peer, gate, hub, issue }) => {
      gate.notFound("GET", new RegExp(`/issues/${issue}$`));
      peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" });
      await hub.pollNow();
      expect(await requests(hub.url)).toEqual([]);
      expect(await (await fetch(`${hub.url}/healthz`)).json()).toMatchObject({ status: "ok" });

      gate.open();
      const id = Number(peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" }).id);
      await hub.pollNow();
      await hub.pollNow();
      expect((await requests(hub.url)).map((r) => r.source.commentId)).toEqual([id]);
    });
  });
});
