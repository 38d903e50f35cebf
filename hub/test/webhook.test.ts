import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import express from "express";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics } from "../src/metrics.js";
import type { CommandEvent } from "../src/watcher/event.js";
import { webhookRouter } from "../src/watcher/webhook.js";

// Real deliveries recorded by GitHub (see test/fixtures/github/SOURCE.md), with a /thopter line put into their text.
const FIXTURES = join(import.meta.dirname, "../../test/fixtures/github");
interface Fixture {
  issue: { title: string };
  comment: { body: string; html_url: string };
  [key: string]: unknown;
}
const fixture = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name), "utf8")) as Fixture;
// GitHub's documented test vector for X-Hub-Signature-256 (secret, body, signature).
const SECRET = "It's a Secret to Everybody";
const DOCS_BODY = "Hello, World!";
const DOCS_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

const events: CommandEvent[] = [];
let url: string;
let server: ReturnType<ReturnType<typeof express>["listen"]>;

async function sign(body: string, secret = SECRET): Promise<string> {
  const { sign: hmac } = await import("@octokit/webhooks-methods");
  return hmac(secret, body);
}

async function deliver(event: string, payload: unknown, signature?: string) {
  const body = JSON.stringify(payload);
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-hub-signature-256": signature ?? (await sign(body)),
    },
    body,
  });
}

beforeAll(async () => {
  const app = express();
  app.use(
    webhookRouter({
      secret: SECRET,
      resolveRepo: (name) => (name.toLowerCase() === "codertocat/hello-world" ? "Codertocat/Hello-World" : undefined),
      handle: async (e) => void events.push(e),
      metrics: createMetrics(async () => []),
      log: pino({ level: "silent" }),
    }),
  );
  server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/github/webhook`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("webhookRouter with GitHub's own payloads", () => {
  it("turns an issue_comment.created delivery into a command event", async () => {
    const payload = fixture("github-webhook-issue_comment.created.payload.json");
    payload.comment.body = "/thopter -p plan";
    events.length = 0;
    expect((await deliver("issue_comment", payload)).status).toBe(200);
    expect(events).toEqual([
      {
        body: "/thopter -p plan",
        issueTitle: payload.issue.title,
        // The payload says whether the issue is a pull request (this one is not).
        onPull: false,
        source: {
          repo: "Codertocat/Hello-World",
          issueNumber: 1,
          commentId: 492700400,
          author: "Codertocat",
          authorAssociation: "OWNER",
          url: payload.comment.html_url,
          via: "webhook",
          createdAt: "2019-05-15T15:20:21Z",
        },
      },
    ]);
  });

  it("turns an issues.opened delivery into a command event for the issue body", async () => {
    const payload = fixture("github-webhook-issues.opened.payload.json");
    events.length = 0;
    expect((await deliver("issues", payload)).status).toBe(200);
    expect(events).toMatchObject([{ source: { issueNumber: 1, commentId: null, via: "webhook" } }]);
  });

  it("refuses a signature made with another secret, or for another body, with 401 and no event", async () => {
    events.length = 0;
    const payload = fixture("github-webhook-issue_comment.created.payload.json");
    payload.comment.body = "/thopter";
    expect((await deliver("issue_comment", payload, await sign(JSON.stringify(payload), "wrong"))).status).toBe(401);
    expect((await deliver("issue_comment", payload, DOCS_SIGNATURE)).status).toBe(401);
    expect(events).toEqual([]);
  });

  it("accepts GitHub's documented signature test vector, then answers 400 because that body is not JSON", async () => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "x-github-event": "issue_comment", "x-hub-signature-256": DOCS_SIGNATURE },
      body: DOCS_BODY,
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("application/json");
  });

  it("answers 202 to events it does not act on and 200 to a ping", async () => {
    const edited = { ...fixture("github-webhook-issue_comment.created.payload.json"), action: "edited" };
    expect((await deliver("issue_comment", edited)).status).toBe(202);
    expect((await deliver("ping", { zen: "hi", repository: { full_name: "x/y" } })).status).toBe(200);
  });
});

describe("a command still being handled", () => {
  it("is answered 202 in time for GitHub while the intake goes on, and its outcome is not lost", async () => {
    let finish: () => void = () => {};
    const finished: CommandEvent[] = [];
    const slow = express();
    slow.use(
      webhookRouter({
        secret: SECRET,
        resolveRepo: () => "Codertocat/Hello-World",
        // An intake whose 👀 waits its turn behind the hub's other GitHub writes.
        handle: (e) =>
          new Promise<void>((resolve) => {
            finish = () => resolve(void finished.push(e));
          }),
        metrics: createMetrics(async () => []),
        log: pino({ level: "silent" }),
        answerWithinMs: 100,
      }),
    );
    const slowServer = slow.listen(0, "127.0.0.1");
    await new Promise((r) => slowServer.once("listening", r));
    try {
      const body = JSON.stringify(fixture("github-webhook-issue_comment.created.payload.json"));
      const res = await fetch(`http://127.0.0.1:${(slowServer.address() as AddressInfo).port}/github/webhook`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "issue_comment",
          "x-hub-signature-256": await sign(body),
        },
        body,
      });
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ accepted: expect.stringContaining("still working") });
      expect(finished).toEqual([]);
      finish();
      expect(finished).toHaveLength(1);
    } finally {
      slowServer.close();
    }
  });
});
