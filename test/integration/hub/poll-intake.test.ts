import { describe, expect, it } from "vitest";
import { BOT, eyes, hubGet, REPO, replies, requests, useHub } from "./harness.js";

const s = useHub();

const comment = (body: string, author = "alice", association: "OWNER" | "NONE" | "CONTRIBUTOR" = "OWNER") =>
  Number(s.peer.addComment(REPO, s.issue, { body, author, association }).id);

describe("hub intake by polling", () => {
  it("turns a /thopter comment into exactly one queued request and one 👀", async () => {
    const id = comment("Let's try this.\n/thopter -p plan -g team look at the wobble");
    await s.hub.pollNow();
    await s.hub.pollNow();

    const stored = await requests(s.hub);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      state: "queued",
      acknowledged: true,
      issueTitle: "Widgets wobble",
      command: { kind: "start", prompt: "plan", gc: "team", count: 1, instructions: "look at the wobble" },
      source: { repo: REPO, issueNumber: s.issue, commentId: id, author: "alice", via: "poll" },
    });
    expect(eyes(s.peer, { comment: id })).toBe(1);
    expect(replies(s.peer, s.issue)).toEqual([]);

    const metrics = await (await hubGet(s.hub, "/metrics")).text();
    expect(metrics).toMatch(/thopter_requests\{state="queued"\} 1/);
    expect(metrics).toMatch(/thopter_github_rate_limit_remaining\{repo="acme\/widgets"\} \d+/);
  });

  it("makes an idle cycle all 304s", async () => {
    comment("/thopter");
    await s.hub.pollNow();
    await s.hub.pollNow(); // sees the 👀 roll-up change on the comment
    // Conversation comments, PR line comments, the newest issue: each a free 304 when nothing changed.
    s.peer.resetStats();
    await s.hub.pollNow();
    expect(s.peer.stats()).toMatchObject({ rateLimited: 0, notModified: 3 });
    const metrics = await (await hubGet(s.hub, "/metrics")).text();
    expect(metrics).toMatch(/thopter_github_poll_not_modified_total\{repo="acme\/widgets",endpoint="comments"\} [1-9]/);
  });

  it("takes a command from a new issue's body and reacts on the issue", async () => {
    const n = Number(
      s.peer.createIssue(REPO, { title: "Body cmd", body: "/thopter stop", author: "alice", association: "MEMBER" })
        .number,
    );
    await s.hub.pollNow();
    const stored = await requests(s.hub);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ command: { kind: "stop" }, source: { issueNumber: n, commentId: null } });
    expect(eyes(s.peer, { issue: n })).toBe(1);
  });

  it("refuses an unauthorized author with one polite reply, once per comment", async () => {
    const id = comment("/thopter", "mallory", "NONE");
    await s.hub.pollNow();
    await s.hub.pollNow();
    expect(await requests(s.hub)).toEqual([]);
    const posted = replies(s.peer, s.issue);
    expect(posted).toHaveLength(1);
    expect(posted[0]).toContain("@mallory");
    expect(posted[0]).toContain("owners, members and collaborators");
    expect(eyes(s.peer, { comment: id })).toBe(0);
  });

  it("answers bad flags and unknown names with one reply listing the valid prompts and golden claudes", async () => {
    comment("/thopter -p nosuch -g team");
    comment("/thopter --count many");
    await s.hub.pollNow();
    await s.hub.pollNow();
    expect(await requests(s.hub)).toEqual([]);
    const posted = replies(s.peer, s.issue);
    expect(posted).toHaveLength(2);
    expect(posted[0]).toContain("there is no prompt `nosuch`");
    expect(posted[1]).toContain("`--count` must be a whole number");
    for (const text of posted) {
      expect(text).toContain("Prompts: `default`, `plan`, `review`");
      expect(text).toContain("Golden claudes: `default`, `team`");
    }
  });

  it("acts on the first of two /thopter lines and says the rest were ignored", async () => {
    const id = comment("/thopter -p plan\n/thopter -p default");
    await s.hub.pollNow();
    const stored = await requests(s.hub);
    expect(stored.map((r) => r.command)).toEqual([expect.objectContaining({ prompt: "plan" })]);
    expect(eyes(s.peer, { comment: id })).toBe(1);
    const posted = replies(s.peer, s.issue);
    expect(posted).toHaveLength(1);
    expect(posted[0]).toContain("the other `/thopter` line was ignored");
  });

  it("ignores the bot's own comments and edits of old comments", async () => {
    comment("/thopter", BOT, "CONTRIBUTOR");
    const id = comment("I will think about it");
    await s.hub.pollNow();
    s.peer.editComment(id, "/thopter");
    await s.hub.pollNow();
    await s.hub.pollNow();
    expect(await requests(s.hub)).toEqual([]);
    expect(replies(s.peer, s.issue)).toHaveLength(1); // only the bot's own comment
    expect(eyes(s.peer, { comment: id })).toBe(0);
  });
});
