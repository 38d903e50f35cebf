import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { verify } from "@octokit/webhooks-methods";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GithubPeer, webhookSignature } from "../../peers/github/index.js";
import { BOT, ISSUES_TOKEN, NAME, OWNER, octokit, REPO, seededPeer } from "./harness.js";

const SECRET = "webhook-secret-for-tests";
const fixture = (name: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, "../../fixtures/github", name), "utf8")) as Record<string, unknown>;

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let peer: GithubPeer;
let receiver: Server;
let received: Received[];
let answer = 200;

beforeEach(async () => {
  peer = await seededPeer();
  received = [];
  answer = 200;
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  peer.deliverTo(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/github/webhook`, SECRET);
});

afterEach(async () => {
  peer.assertClean();
  await peer.close();
  await new Promise((resolve) => receiver.close(resolve));
});

describe("GitHub peer webhook deliveries", () => {
  it("delivers issues/opened and issue_comment created/edited, signed, in order, shaped like real payloads", async () => {
    peer.createIssue(REPO, { title: "Broken", body: "please fix", author: "alice", association: "OWNER" });
    const comment = peer.addComment(REPO, 1, { body: "/thopter", author: "alice", association: "OWNER" });
    peer.editComment(comment.id as number, "/thopter -p plan");
    await peer.deliveriesSettled();

    expect(received.map((r) => [r.headers["x-github-event"], JSON.parse(r.body).action])).toEqual([
      ["issues", "opened"],
      ["issue_comment", "created"],
      ["issue_comment", "edited"],
    ]);
    for (const r of received) {
      expect(await verify(SECRET, r.body, String(r.headers["x-hub-signature-256"]))).toBe(true);
      expect(r.headers["x-github-delivery"]).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.headers["content-type"]).toBe("application/json");
    }
    const [opened, created, edited] = received.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(Object.keys(opened!).sort()).toEqual(
      Object.keys(fixture("github-webhook-issues.opened.payload.json")).sort(),
    );
    expect(Object.keys(created!).sort()).toEqual(
      Object.keys(fixture("github-webhook-issue_comment.created.payload.json")).sort(),
    );
    expect(created).toMatchObject({
      comment: { id: comment.id, body: "/thopter", author_association: "OWNER", user: { login: "alice" } },
      issue: { number: 1, title: "Broken" },
      repository: { full_name: REPO },
      sender: { login: "alice" },
    });
    expect(edited).toMatchObject({ changes: { body: { from: "/thopter" } }, comment: { body: "/thopter -p plan" } });
    expect(peer.deliveries.map((d) => d.status)).toEqual([200, 200, 200]);
  });

  it("also delivers comments made through the REST API, and records a receiver's refusal", async () => {
    peer.createIssue(REPO, { title: "x", author: "alice", association: "OWNER" });
    await peer.deliveriesSettled();
    answer = 401;
    await octokit(peer, ISSUES_TOKEN).rest.issues.createComment({
      owner: OWNER,
      repo: NAME,
      issue_number: 1,
      body: "ok",
    });
    await peer.deliveriesSettled();
    const last = peer.deliveries.at(-1);
    expect(last).toMatchObject({ event: "issue_comment", action: "created", status: 401 });
    expect(last?.payload.sender).toMatchObject({ login: BOT });
  });

  it("signs with GitHub's documented HMAC (official test vector)", () => {
    expect(webhookSignature("It's a Secret to Everybody", "Hello, World!")).toBe(
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    );
  });
});
