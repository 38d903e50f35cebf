import { THOPTER_PATHS } from "@thopter/hub/scheduler/spec";
import { describe, expect, it } from "vitest";
import { withGatedHub } from "./gate.js";
import { BOT, REPO, until } from "./harness.js";
import { RecordingProvider } from "./recording-provider.js";
import { BRANCH, thopterPull } from "./thopter-pull.js";

describe("a /thopter on a thopter's pull request", () => {
  it("starts one thopter on the PR's branch, refuses a second writer while it lives, and /thopter stop stops it", async () => {
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

      // One branch, one writer: while that thopter lives, another command on the PR is refused with a reply.
      await say("/thopter and also this");
      await hub.pollNow();
      await until(() => botReplies().length === 1, 15_000, "the refusal");
      expect(botReplies()[0]).toContain(`thopter \`${record.id}\` is still on \`${BRANCH}\``);
      expect(provider.creates).toHaveLength(1);

      await say("/thopter stop");
      await hub.pollNow();
      await until(
        () => ["stopping", "gone"].includes(hub.thopters!.registry.get(record.id)?.state ?? "gone"),
        15_000,
        "the branch's thopter stopped",
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
