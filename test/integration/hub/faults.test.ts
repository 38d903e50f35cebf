import { MAX_RETRIES } from "@thopter/hub/github/octokit";
import { describe, expect, it } from "vitest";
import { eyes, hubGet, REPO, requests, useHub } from "./harness.js";

const s = useHub();

const command = (body = "/thopter") =>
  Number(s.peer.addComment(REPO, s.issue, { body, author: "alice", association: "OWNER" }).id);

const COMMENTS = /\/issues\/comments$/;
const REACTIONS = /\/reactions$/;

describe("hub under GitHub faults", () => {
  it("retries 500s within a cycle and loses nothing", async () => {
    const id = command();
    s.peer.inject({ status: 500, times: 2, match: { method: "GET", path: COMMENTS } });
    s.peer.inject({ status: 502, match: { method: "POST", path: REACTIONS } });
    await s.hub.pollNow();
    expect(s.peer.pendingFaults()).toBe(0);
    expect(await requests(s.hub)).toMatchObject([{ source: { commentId: id }, acknowledged: true }]);
    expect(eyes(s.peer, { comment: id })).toBe(1);
  });

  it("keeps its cursor when GitHub stays down for a whole cycle, and catches up on the next", async () => {
    const id = command();
    // One cycle's worth: the first try and every retry.
    s.peer.inject({ status: 500, times: 1 + MAX_RETRIES, match: { method: "GET", path: COMMENTS } });
    await s.hub.pollNow();
    expect(s.peer.pendingFaults()).toBe(0);
    expect(await requests(s.hub)).toEqual([]);
    const metrics = await (await hubGet(s.hub, "/metrics")).text();
    expect(metrics).toMatch(/thopter_github_poll_errors_total\{repo="acme\/widgets"\} 1/);
    const health = async () => (await fetch(`${s.hub.url}/healthz`)).json();
    expect(await health()).toMatchObject({ status: "degraded", failing: [REPO] });

    // (A 👀 that fails every retry is covered in outages.test.ts: the request waits, acknowledged later.)
    await s.hub.pollNow();
    expect(await requests(s.hub)).toMatchObject([{ source: { commentId: id }, acknowledged: true }]);
    expect(eyes(s.peer, { comment: id })).toBe(1);
    expect(await health()).toMatchObject({ status: "ok", failing: [] });
  });

  it.each([403, 429] as const)(
    "waits out a secondary rate limit (%i, retry-after) and loses nothing",
    async (status) => {
      const id = command();
      s.peer.inject({ status, retryAfter: 1, match: { method: "GET", path: COMMENTS } });
      s.peer.inject({ status, retryAfter: 1, match: { method: "POST", path: REACTIONS } });
      const started = Date.now();
      await s.hub.pollNow();
      // Two waits of retry-after (1 s each): the throttling plugin honoured both before retrying.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      expect(s.peer.pendingFaults()).toBe(0);
      expect(await requests(s.hub)).toMatchObject([{ source: { commentId: id }, acknowledged: true }]);
      expect(eyes(s.peer, { comment: id })).toBe(1);
      expect(s.logs.some((l) => l.includes("GitHub secondary rate limit"))).toBe(true);
    },
  );

  it("is not wedged by a cursor pointing past deleted comments", async () => {
    const first = command();
    const chatter = command("just chatting");
    await s.hub.pollNow();
    s.peer.deleteComment(first);
    s.peer.deleteComment(chatter);
    await s.hub.pollNow();
    const second = command("/thopter -p plan");
    await s.hub.pollNow();
    expect((await requests(s.hub)).map((r) => r.source.commentId)).toEqual([first, second]);
  });

  it("moves its window past a full page and survives the comments at its edge being deleted", async () => {
    const burst = Array.from({ length: 120 }, (_, i) => command(`comment ${i}`));
    await s.hub.pollNow(); // two pages; the window moves up to the newest comment
    const cursor = await s.hub.store.get<{ comments: { since: string } }>(`cursor/${REPO}`);
    expect(new Date(cursor!.comments.since).getTime()).toBeGreaterThan(Date.now() - 60_000);
    for (const id of burst) s.peer.deleteComment(id);
    const id = command();
    await s.hub.pollNow();
    await s.hub.pollNow();
    expect((await requests(s.hub)).map((r) => r.source.commentId)).toEqual([id]);
  });
});
