import { THOPTER_PATHS } from "@thopter/hub/scheduler/spec";
import { describe, expect, it } from "vitest";
import { withGatedHub } from "./gate.js";
import { BOT, REPO, requests, until } from "./harness.js";
import { RecordingProvider } from "./recording-provider.js";
import { BRANCH, thopterPull } from "./thopter-pull.js";

describe("a /thopter on a thopter's pull request", () => {
  it("starts one thopter on the PR's branch, passes a second command to it while it lives, and /thopter stop stops it", async () => {
    const provider = new RecordingProvider();
    await withGatedHub({ retryUnitMs: 20, provider, entrypoint: ["/bin/true"] }, async ({ peer, hub }) => {
      const pull = await thopterPull(peer);
      const say = (text: string) =>
        peer.reviews.addComment(REPO, pull, {
          body: text,
          author: "alice",
          association: "OWNER",
          path: "wobble.ts",
          line: 1,
        });
      const botReplies = () =>
        peer
          .comments(REPO, pull)
          .filter((c) => (c.user as { login: string }).login === BOT)
          .map((c) => String(c.body));

      await say("/thopter use a constant");
      await hub.pollNow();
      await until(() => provider.creates.length === 1, 15_000, "provider.create");
      const record = hub.thopters!.registry.get(provider.creates[0]!.thopterId)!;
      // Same branch, the review prompt, and its issue is the PR: get_issue and the completion comment are there.
      expect(record).toMatchObject({
        branch: BRANCH,
        prompt: "review",
        issueNumber: pull,
        issueTitle: "Fix the wobble",
      });
      // The thopter's job (its boot config) and its prompt name the PR's branch: its clone resumes from the tip.
      const files = provider.specs[0]!.files.map((f) => [f.path, Buffer.from(f.contentBase64, "base64").toString()]);
      const job = JSON.parse(files.find(([path]) => path === THOPTER_PATHS.config)?.[1] ?? "{}") as {
        workBranch?: string;
      };
      expect(job.workBranch).toBe(BRANCH);
      expect(files.map(([, text]) => text).join("\n")).toContain(`following up on ${REPO} pull request #${pull}`);

      // One branch, one writer: while that thopter lives, a command on the PR goes to it instead of a new thopter.
      const file = (path: string) => String(files.find(([p]) => p === path)?.[1]).trim();
      const statusToken = file(THOPTER_PATHS.statusToken);
      const observe = async (delivered?: string[]) => {
        const report = { state: "working", event: "heartbeat", reason: "heartbeat", at: new Date().toISOString() };
        const res = await fetch(`${hub.thopters!.collectorUrl}/v1/status`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${statusToken}` },
          body: JSON.stringify(delivered ? { ...report, delivered } : report),
        });
        expect(res.status).toBe(200);
        return ((await res.json()) as { followUps: { id: string; text: string }[] }).followUps;
      };
      await observe();
      const comment = Number(
        peer.addComment(REPO, pull, {
          body: "/thopter and also this\u001b[2J\u0003 please",
          author: "alice",
          association: "OWNER",
        }).id,
      );
      const reactions = () => peer.reactions(REPO, { comment }).map((r) => r.content);
      await hub.pollNow();
      await until(() => reactions().includes("eyes"), 15_000, "the 👀 on the follow-up");
      // Stored on the thopter's record before the 👀 (a restarted hub offers it too), not yet delivered: no 🚀.
      const stored = hub.thopters!.registry.get(record.id)?.followUps ?? [];
      expect(stored).toHaveLength(1);
      expect(reactions()).toEqual(["eyes"]);
      const [offered] = await observe();
      expect(offered?.id).toBe(stored[0]!.id);
      expect(offered?.text).toMatch(
        new RegExp(
          `^Follow-up from @alice on pull request #${pull}: and also this \\[2J please — read it with get_pull_request`,
        ),
      );
      expect(offered?.text).not.toMatch(/[\u0000-\u001f\u007f]/);
      // The observer confirms it typed it: the hub offers it no more, and the command gets its 🚀 (delivered).
      expect(await observe([offered!.id])).toEqual([]);
      await until(() => reactions().includes("rocket"), 15_000, "the 🚀 once delivered");
      expect(await observe()).toEqual([]);
      expect(botReplies()).toEqual([]);
      expect(provider.creates).toHaveLength(1);
      const byId = Object.fromEntries((await requests(hub)).map((r) => [r.id, r]));
      expect(byId[offered!.id]).toMatchObject({ state: "provisioned", thopterIds: [record.id] });
      // Its next report goes where the follow-up came from: the completion comment lands on the PR.
      const res = await fetch(`${hub.thopters!.collectorUrl}/v1/reports`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${file(THOPTER_PATHS.reportToken)}` },
        body: JSON.stringify({
          idempotencyKey: "round-2",
          at: new Date().toISOString(),
          body: { kind: "status", state: "done", summary: "Also did this." },
        }),
      });
      expect(res.status).toBe(200);
      await until(() => botReplies().length === 1, 15_000, "the completion comment on the PR");
      expect(botReplies()[0]).toMatch(/^✅/);
      expect(botReplies()[0]).toContain("Also did this.");

      // A follow-up the thopter never gets (it is stopped first) earns a reply saying so, not silence.
      await say("/thopter one more thing");
      await hub.pollNow();
      await until(() => hub.thopters!.registry.get(record.id)?.followUps?.length === 2, 15_000, "the 2nd follow-up");
      await say("/thopter stop");
      await hub.pollNow();
      await until(
        () => ["stopping", "gone"].includes(hub.thopters!.registry.get(record.id)?.state ?? "gone"),
        15_000,
        "the branch's thopter stopped",
      );
      await until(() => botReplies().length === 2, 20_000, "the reply on the undelivered follow-up");
      expect(botReplies()[1]).toContain(
        `@alice, thopter \`${record.id}\` ended (gone) before its Claude session got these instructions. Write \`/thopter …\` here again to start a new thopter on this branch.`,
      );
    });
  });

  it("polls the reviews of a live thopter's PR only, for free when nothing changed, and takes a review's /thopter stop", async () => {
    const provider = new RecordingProvider();
    await withGatedHub({ retryUnitMs: 20, provider, entrypoint: ["/bin/true"] }, async ({ peer, hub }) => {
      const pull = await thopterPull(peer);
      await hub.pollNow();
      peer.resetStats();
      await hub.pollNow();
      // No live thopter has a PR yet: no review is polled at all.
      expect(peer.stats().byRoute["GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews"]).toBeUndefined();

      const line = { author: "alice", association: "OWNER" as const, path: "wobble.ts", line: 1 };
      await peer.reviews.addComment(REPO, pull, { body: "/thopter go on", ...line });
      await hub.pollNow();
      await until(() => provider.creates.length === 1, 15_000, "provider.create");
      const id = provider.creates[0]!.thopterId;
      // As the broker's report would: the thopter's record now names its PR.
      const pullRequestUrl = String(peer.pulls(REPO)[0]!.html_url);
      await hub.thopters!.registry.update(id, { patch: { pullRequestUrl } });
      await hub.pollNow();
      await hub.pollNow();
      peer.resetStats();
      await hub.pollNow();
      expect(peer.stats()).toMatchObject({ rateLimited: 0, notModified: 4 });
      expect(peer.stats().byRoute["GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews"]).toBe(1);

      // A review's body is only seen by this poll here (no webhook is configured).
      await peer.reviews.submitReview(REPO, pull, { body: "/thopter stop", author: "alice", association: "OWNER" });
      await hub.pollNow();
      await until(
        () => ["stopping", "gone"].includes(hub.thopters!.registry.get(id)?.state ?? "gone"),
        15_000,
        "the branch's thopter stopped by the review",
      );
      expect(peer.reactions(REPO, { issue: pull }).map((r) => r.content)).toContain("eyes");
    });
  });
});
