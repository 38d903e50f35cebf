import { describe, expect, it } from "vitest";
import { webhookSignature } from "../../peers/github/index.js";
import { CODER_TOKEN, eyes, hubGet, ISSUES_TOKEN, REPO, requests, until, useHub, WEBHOOK_SECRET } from "./harness.js";

const s = useHub({ GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET }, (hub) =>
  hub.peer.deliverTo(`${hub.hub.url}/github/webhook`, WEBHOOK_SECRET),
);

const post = (body: string, headers: Record<string, string>) =>
  fetch(`${s.hub.url}/github/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": "issue_comment", ...headers },
    body,
  });

describe("hub intake by webhook", () => {
  it("queues a request from a signed delivery, and polling the same comment adds nothing", async () => {
    const id = Number(s.peer.addComment(REPO, s.issue, { body: "/thopter", author: "alice", association: "OWNER" }).id);
    await s.peer.deliveriesSettled();
    expect(s.peer.deliveries.at(-1)).toMatchObject({ event: "issue_comment", status: 200 });
    const viaWebhook = await requests(s.hub);
    expect(viaWebhook).toMatchObject([{ source: { commentId: id, via: "webhook" }, acknowledged: true }]);

    await s.hub.pollNow();
    await s.hub.pollNow();
    expect(await requests(s.hub)).toEqual(viaWebhook);
    expect(eyes(s.peer, { comment: id })).toBe(1);
    const metrics = await (await hubGet(s.hub, "/metrics")).text();
    expect(metrics).toMatch(/thopter_webhook_deliveries_total\{event="issue_comment",outcome="handled"\} 1/);
  });

  it("queues an issue opened with /thopter in its body once, whichever watcher sees it first", async () => {
    const n = Number(
      s.peer.createIssue(REPO, { title: "New", body: "/thopter -n 2", author: "alice", association: "OWNER" }).number,
    );
    await Promise.all([s.peer.deliveriesSettled(), s.hub.pollNow()]);
    await s.hub.pollNow();
    const stored = await requests(s.hub);
    expect(stored).toMatchObject([{ source: { issueNumber: n, commentId: null }, command: { count: 2 } }]);
    expect(eyes(s.peer, { issue: n })).toBe(1);
  });

  it("refuses a bad signature with 401 and queues nothing", async () => {
    const delivered = s.peer.addComment(REPO, s.issue, { body: "/thopter", author: "alice", association: "OWNER" });
    await s.peer.deliveriesSettled();
    const payload = JSON.stringify({ ...s.peer.deliveries.at(-1)!.payload, comment: { ...delivered, id: 1 } });
    const forged = await post(payload, { "x-hub-signature-256": webhookSignature("not-the-secret", payload) });
    expect(forged.status).toBe(401);
    const unsigned = await post(payload, {});
    expect(unsigned.status).toBe(401);
    expect((await requests(s.hub)).map((r) => r.source.commentId)).toEqual([delivered.id]);
  });

  it("ignores a delivery for a repository it does not serve (202, a log line) and matches names case-insensitively", async () => {
    s.peer.addComment(REPO, s.issue, { body: "hello", author: "alice", association: "OWNER" });
    await s.peer.deliveriesSettled();
    const real = s.peer.deliveries.at(-1)!.payload as { repository: object; comment: object };
    const redeliver = (fullName: string, body: string) => {
      const payload = JSON.stringify({
        ...real,
        repository: { ...real.repository, full_name: fullName },
        comment: { ...real.comment, body },
      });
      return post(payload, { "x-hub-signature-256": webhookSignature(WEBHOOK_SECRET, payload) });
    };

    const res = await redeliver("someone/else", "/thopter");
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ ignored: expect.stringContaining("someone/else") });
    expect(await requests(s.hub)).toEqual([]);
    expect(s.logs.some((l) => l.includes("repository not configured") && l.includes("someone/else"))).toBe(true);

    expect((await redeliver("ACME/Widgets", "/thopter")).status).toBe(200);
    expect(await requests(s.hub)).toMatchObject([{ source: { repo: REPO, via: "webhook" } }]);
  });

  it("never triggers on an edit delivered by webhook, nor on the edited comment when polled", async () => {
    const id = Number(s.peer.addComment(REPO, s.issue, { body: "hello", author: "alice", association: "OWNER" }).id);
    // GitHub's timestamps have whole seconds: an edit within the creation second is indistinguishable by polling.
    await new Promise((r) => setTimeout(r, 1100));
    s.peer.editComment(id, "/thopter");
    await s.peer.deliveriesSettled();
    expect(s.peer.deliveries.map((d) => `${d.event}.${d.action}:${d.status}`)).toEqual([
      "issue_comment.created:200",
      "issue_comment.edited:202",
    ]);
    await s.hub.pollNow();
    expect(await requests(s.hub)).toEqual([]);
  });

  it("logs no token or webhook secret during a full poll and webhook cycle", async () => {
    s.peer.addComment(REPO, s.issue, { body: "/thopter", author: "alice", association: "OWNER" });
    s.peer.addComment(REPO, s.issue, { body: "/thopter", author: "eve", association: "NONE" });
    s.peer.addComment(REPO, s.issue, { body: "/thopter -p nope", author: "alice", association: "OWNER" });
    s.peer.inject({ status: 500, match: { method: "GET" } });
    await s.peer.deliveriesSettled();
    await s.hub.pollNow();
    await until(async () => (await requests(s.hub)).length === 1, 10_000, "the request");
    const text = s.logs.join("");
    expect(text).toContain("request queued");
    expect(text.length).toBeGreaterThan(1000);
    for (const secret of [ISSUES_TOKEN, CODER_TOKEN, WEBHOOK_SECRET]) expect(text).not.toContain(secret);
  });
});
