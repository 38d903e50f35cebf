import { MAX_RETRIES } from "@thopter/hub/github/octokit";
import { describe, expect, it } from "vitest";
import { withGatedHub } from "./gate.js";
import { eyes, REPO, requests, setup } from "./harness.js";

// Each test builds its own peer and hub: they need a peer clock, a small rate limit, or faults before the first start.
describe("hub across GitHub outages and exhausted limits", () => {
  it("does not hang on an exhausted primary rate limit, and catches up after the reset", async () => {
    let offset = 0;
    // Start-up takes 3 requests (comments, line comments, newest issue), the command cycle 3 more (listing, bot login,
    // title): the 👀 is over the limit.
    const limited = await setup({}, { rateLimit: 6, now: () => new Date(Date.now() + offset) });
    try {
      const id = Number(
        limited.peer.addComment(REPO, limited.issue, { body: "/thopter", author: "alice", association: "OWNER" }).id,
      );
      const started = Date.now();
      await limited.hub.pollNow();
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(await requests(limited.hub)).toMatchObject([{ source: { commentId: id }, acknowledged: false }]);
      expect(limited.logs.some((l) => l.includes("GitHub primary rate limit hit"))).toBe(true);
      // The limit is the hub's, not the poll's: the next cycle's probe is refused too, and /healthz says until when.
      await limited.hub.pollNow();
      const health = (await (await fetch(`${limited.hub.url}/healthz`)).json()) as {
        github: Record<string, { rateLimitedUntil?: string; detail?: string }>;
      };
      expect(health.github[REPO]).toMatchObject({
        state: "failing",
        problem: "rate-limited",
        budget: { remaining: 0, limit: 6 },
      });
      // Until the peer's window resets (an hour after its first request), said as HH:MM.
      const until = String(health.github[REPO]?.rateLimitedUntil);
      expect(Math.abs(Date.parse(until) - (started + 3_600_000))).toBeLessThan(60_000);
      expect(health.github[REPO]?.detail).toMatch(new RegExp(`^rate-limited until ${until.slice(11, 16)} UTC`));

      offset += 3_601_000; // the peer's rate-limit window resets
      await limited.hub.pollNow();
      expect(await requests(limited.hub)).toMatchObject([{ source: { commentId: id }, acknowledged: true }]);
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
      expect(await requests(down.hub)).toMatchObject([{ source: { issueNumber: n, commentId: null } }]);
      down.peer.assertClean();
    } finally {
      await down.close();
    }
  });

  it("gives up on a GitHub that never answers after the poll timeout, keeps serving, and catches up once it answers", async () => {
    await withGatedHub(
      { retryUnitMs: 20 },
      async ({ peer, gate, hub, issue }) => {
        gate.freeze("GET", /\/issues\/comments\?/, "request");
        const id = Number(peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" }).id);
        const started = Date.now();
        await hub.pollNow();
        // One try, cut at GITHUB_POLL_TIMEOUT_MS: a poll is not retried (the next cycle is), so a hang shows at once.
        expect(Date.now() - started).toBeGreaterThanOrEqual(300);
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(gate.held).toBe(1);
        expect(await (await fetch(`${hub.url}/healthz`)).json()).toMatchObject({
          status: "degraded",
          github: {
            [REPO]: { state: "failing", problem: "timeout", detail: "timed out: GitHub did not answer within 300 ms" },
          },
        });

        gate.open();
        await hub.pollNow();
        expect(await requests(hub)).toMatchObject([{ source: { commentId: id }, acknowledged: true }]);
      },
      { GITHUB_POLL_TIMEOUT_MS: "300" },
    );
  });

  it("skips a command whose issue GitHub will not show (404) instead of retrying it forever", async () => {
    await withGatedHub({}, async ({ peer, gate, hub, issue }) => {
      gate.notFound("GET", new RegExp(`/issues/${issue}$`));
      peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" });
      await hub.pollNow();
      expect(await requests(hub)).toEqual([]);
      expect(await (await fetch(`${hub.url}/healthz`)).json()).toMatchObject({ status: "ok" });

      gate.open();
      const id = Number(peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" }).id);
      await hub.pollNow();
      await hub.pollNow();
      expect((await requests(hub)).map((r) => r.source.commentId)).toEqual([id]);
    });
  });
});
