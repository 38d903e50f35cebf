import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@thopter/hub/config";
import { startHub } from "@thopter/hub/hub";
import { replyKey } from "@thopter/hub/requests/durable-comments";
import { RequestQueue } from "@thopter/hub/requests/queue";
import { openStore } from "@thopter/hub/store/index";
import type { CommandSource } from "@thopter/protocol";
import { expect, it } from "vitest";
import { startGithubPeer } from "../../peers/github/index.js";
import { signature } from "../../peers/github/webhooks.js";
import {
  BOT,
  CODER_TOKEN,
  eyes,
  hubEnv,
  ISSUES_TOKEN,
  REPO,
  recordingLogger,
  requests,
  until,
  WEBHOOK_SECRET,
} from "./harness.js";

const DAY = 86_400_000;

it("a hub started on a store with old finished requests removes them, keeps open work, and never re-runs an old command", async () => {
  // GitHub's clock: 40 days back while the old commands are written, then today.
  let offset = 40 * DAY;
  const peer = await startGithubPeer({ now: () => new Date(Date.now() - offset) });
  const dir = await mkdtemp(join(tmpdir(), "hub-retention-"));
  try {
    await peer.addRepo(REPO, { issuesToken: ISSUES_TOKEN, coderToken: CODER_TOKEN, bot: { login: BOT } });
    const issue = Number(
      peer.createIssue(REPO, { title: "Widgets wobble", author: "alice", association: "OWNER" }).number,
    );
    // Deliveries are recorded though nothing listens yet: the attack below redelivers one, as GitHub's UI can.
    peer.deliverTo("http://127.0.0.1:9/github/webhook", WEBHOOK_SECRET);
    const comment = (body: string) => peer.addComment(REPO, issue, { body, author: "alice", association: "OWNER" });
    const oldDone = comment("/thopter");
    const oldOpen = comment("/thopter -p plan");
    offset = 0;

    // What a hub 40 days ago left in the store: one command done (👀, provisioned), one still queued, a posted reply.
    const config = loadConfig(
      hubEnv(peer.url, dir, { STORE_RETENTION_DAYS: "30", GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET }),
    );
    const seeded = await openStore(config.STORE_URL);
    const then = () => new Date(Date.now() - 40 * DAY);
    const queue = new RequestQueue(seeded, then);
    const sourceOf = (c: Record<string, unknown>): CommandSource => ({
      repo: REPO,
      issueNumber: issue,
      commentId: Number(c.id),
      author: "alice",
      authorAssociation: "OWNER",
      url: String(c.html_url),
      via: "poll",
      createdAt: String(c.created_at),
    });
    const done = (await queue.create(sourceOf(oldDone), "Widgets wobble", startCommand)).request;
    await queue.markAcknowledged(done.id);
    await queue.update(done.id, { state: "provisioned" });
    const open = (await queue.create(sourceOf(oldOpen), "Widgets wobble", startCommand)).request;
    await queue.markAcknowledged(open.id);
    const posted = { repo: REPO, issueNumber: issue, body: "old", createdAt: then().toISOString(), posted: true };
    await seeded.put(replyKey("old-reply"), posted);
    await seeded.close();

    const { log, logs } = recordingLogger(config);
    const hub = await startHub(config, { log, retryUnitMs: 20, thopters: false, announce: () => {} });
    try {
      await until(async () => (await hub.store.get(`requests/${done.id}`)) === undefined, 20_000, "retention at start");
      expect((await requests(hub)).map((r) => r.id)).toEqual([open.id]);
      expect(await hub.store.get(replyKey("old-reply"))).toBeUndefined();
      expect(logs.join("\n")).toContain("retention removed old finished entries from the store");

      // The attack: the old command's request is gone; its webhook delivery comes again (a redelivery). Not re-run.
      await peer.deliveriesSettled();
      const old = peer.deliveries.find((d) => (d.payload.comment as { id?: number } | undefined)?.id === oldDone.id);
      const body = JSON.stringify(old?.payload);
      const redelivered = await fetch(`${hub.url}/github/webhook`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": String(old?.event),
          "x-github-delivery": String(old?.id),
          "x-hub-signature-256": signature(WEBHOOK_SECRET, body),
        },
        body,
      });
      expect(redelivered.status).toBe(200);
      // A command written today still runs (through the webhook): only age stops the old one.
      peer.deliverTo(`${hub.url}/github/webhook`, WEBHOOK_SECRET);
      const fresh = comment("/thopter -p plan");
      await until(() => eyes(peer, { comment: Number(fresh.id) }) === 1, 20_000, "the 👀 on today's command");
      const after = await requests(hub);
      expect(after.map((r) => r.source.commentId).sort()).toEqual([Number(oldOpen.id), Number(fresh.id)].sort());
      expect(eyes(peer, { comment: Number(oldDone.id) })).toBe(0);
      expect(logs.join("\n")).toContain("older than STORE_RETENTION_DAYS");
    } finally {
      await hub.stop();
    }
    peer.assertClean();
  } finally {
    await peer.close();
    await rm(dir, { recursive: true, force: true });
  }
}, 60_000);

const startCommand = { kind: "start", gc: "default", prompt: "default", count: 1, instructions: "" } as const;
