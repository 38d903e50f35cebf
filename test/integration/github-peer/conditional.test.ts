import type { RequestError } from "@octokit/request-error";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GithubPeer } from "../../peers/github/index.js";
import { CODER_TOKEN, ISSUES_TOKEN, ManualClock, NAME, OWNER, octokit, REPO, seededPeer } from "./harness.js";

let peer: GithubPeer;
let clock: ManualClock;

beforeEach(async () => {
  clock = new ManualClock();
  peer = await seededPeer({ clock });
  peer.createIssue(REPO, { title: "x", author: "alice", association: "OWNER" });
});

afterEach(async () => {
  peer.assertClean();
  await peer.close();
});

const commentsUrl = () => `${peer.url}/repos/${REPO}/issues/comments?sort=updated&direction=asc`;
const get = (token: string, etag?: string) =>
  fetch(commentsUrl(), { headers: { authorization: `Bearer ${token}`, ...(etag ? { "if-none-match": etag } : {}) } });

describe("GitHub peer conditional requests and rate limits", () => {
  it("answers a matching If-None-Match with an empty 304 that costs no rate limit", async () => {
    const first = await get(ISSUES_TOKEN);
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect(first.headers.get("x-ratelimit-remaining")).toBe("4999");
    expect(first.headers.get("x-ratelimit-resource")).toBe("core");

    const second = await get(ISSUES_TOKEN, etag);
    expect(second.status).toBe(304);
    expect(await second.text()).toBe("");
    expect(second.headers.get("etag")).toBe(etag);
    expect(second.headers.get("x-ratelimit-remaining")).toBe("4999");
    expect(second.headers.get("x-ratelimit-used")).toBe("1");

    expect(peer.stats()).toMatchObject({ requests: 2, rateLimited: 1, notModified: 1 });
    expect(peer.stats().byToken[ISSUES_TOKEN]).toEqual({ requests: 2, rateLimited: 1, notModified: 1 });
  });

  it("changes the ETag when the answer changes and per token", async () => {
    const etag = (await get(ISSUES_TOKEN)).headers.get("etag")!;
    const otherToken = await get(CODER_TOKEN, etag);
    expect(otherToken.status).toBe(200);
    expect(otherToken.headers.get("etag")).not.toBe(etag);

    clock.advance(5);
    peer.addComment(REPO, 1, { body: "/thopter", author: "alice", association: "OWNER" });
    const changed = await get(ISSUES_TOKEN, etag);
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as unknown[]).length).toBe(1);
  });

  it("lets Octokit see a 304 as a RequestError with status 304", async () => {
    const gh = octokit(peer, ISSUES_TOKEN);
    const first = await gh.rest.issues.listForRepo({ owner: OWNER, repo: NAME });
    const error = (await gh.rest.issues
      .listForRepo({ owner: OWNER, repo: NAME, headers: { "if-none-match": first.headers.etag } })
      .catch((e: unknown) => e)) as RequestError;
    expect(error.status).toBe(304);
  });

  it("keeps idle polls over 1,000 open issues free: every repeat is a 304", async () => {
    for (let i = 0; i < 999; i++)
      peer.createIssue(REPO, { title: `issue ${i}`, author: "alice", association: "MEMBER" });
    const since = clock.iso();
    const urls = [
      `${peer.url}/repos/${REPO}/issues?state=open&sort=updated&direction=asc&since=${since}&per_page=100`,
      commentsUrl(),
    ];
    const etags = new Map<string, string>();
    for (const url of urls) {
      const response = await fetch(url, { headers: { authorization: `token ${ISSUES_TOKEN}` } });
      expect(response.status).toBe(200);
      etags.set(url, response.headers.get("etag")!);
    }
    peer.resetStats();
    for (let cycle = 0; cycle < 20; cycle++) {
      for (const url of urls) {
        const response = await fetch(url, {
          headers: { authorization: `token ${ISSUES_TOKEN}`, "if-none-match": etags.get(url)! },
        });
        expect(response.status).toBe(304);
      }
    }
    expect(peer.stats()).toMatchObject({ requests: 40, rateLimited: 0, notModified: 40 });
  });
});
