import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import type { RequestError } from "@octokit/request-error";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GithubPeer } from "../../peers/github/index.js";
import { ISSUES_TOKEN, NAME, OWNER, octokit, REPO, RestOctokit, seededPeer } from "./harness.js";

let peer: GithubPeer;

beforeEach(async () => {
  peer = await seededPeer();
  peer.createIssue(REPO, { title: "x", author: "alice", association: "OWNER" });
});

afterEach(async () => {
  peer.assertClean();
  await peer.close();
});

const Resilient = RestOctokit.plugin(throttling, retry);
const repoArgs = { owner: OWNER, repo: NAME };

/** Octokit as the hub configures it (throttling + retry), with waits scaled down to milliseconds. */
function resilient(seen: { secondary: number[] }) {
  return new Resilient({
    baseUrl: peer.url,
    auth: ISSUES_TOKEN,
    retry: { retryAfterBaseValue: 5 },
    throttle: {
      retryAfterBaseValue: 5,
      onRateLimit: () => false,
      onSecondaryRateLimit: (retryAfter: number) => {
        seen.secondary.push(retryAfter);
        return true;
      },
    },
  });
}

const path = /\/issues\/comments$/;
const statuses = () => peer.requestLog.filter((r) => path.test(r.path.split("?")[0] ?? "")).map((r) => r.status);

describe("GitHub peer fault injection", () => {
  it("answers injected 500s and 502s until they are used up; the retry plugin gets through", async () => {
    peer.inject({ status: 500, times: 2, match: { method: "GET", path } });
    peer.inject({ status: 502, times: 1, match: { path } });
    const seen = { secondary: [] as number[] };
    const { data } = await resilient(seen).rest.issues.listCommentsForRepo(repoArgs);
    expect(data).toEqual([]);
    expect(statuses()).toEqual([500, 500, 502, 200]);
    expect(peer.pendingFaults()).toBe(0);
  });

  it("answers a secondary-rate-limit 403 and 429 with GitHub's message and retry-after", async () => {
    peer.inject({ status: 403, retryAfter: 7, match: { path } });
    const raw = await fetch(`${peer.url}/repos/${REPO}/issues/comments`, {
      headers: { authorization: `token ${ISSUES_TOKEN}` },
    });
    expect(raw.status).toBe(403);
    expect(raw.headers.get("retry-after")).toBe("7");
    const body = (await raw.json()) as { message: string; documentation_url: string };
    expect(body.message).toMatch(/^You have exceeded a secondary rate limit/);
    expect(body.documentation_url).toContain("secondary-rate-limits");
    expect(body.message).toContain(`request ID ${raw.headers.get("x-github-request-id")}.`);

    peer.inject({ status: 429, retryAfter: 2, match: { path } });
    peer.inject({ status: 403, retryAfter: 3, match: { path } });
    const seen = { secondary: [] as number[] };
    await resilient(seen).rest.issues.listCommentsForRepo(repoArgs);
    expect(seen.secondary).toEqual([2, 3]);
    expect(statuses()).toEqual([403, 429, 403, 200]);
  });

  it("only faults matching requests", async () => {
    peer.inject({ status: 500, match: { method: "POST" } });
    const gh = octokit(peer, ISSUES_TOKEN);
    await gh.rest.issues.get({ ...repoArgs, issue_number: 1 });
    const error = await gh.rest.issues
      .createComment({ ...repoArgs, issue_number: 1, body: "hi" })
      .catch((e: RequestError) => e);
    expect((error as RequestError).status).toBe(500);
    expect(peer.comments(REPO, 1)).toEqual([]);
  });

  it("refuses with the primary rate-limit 403 once a token's hourly limit is used", async () => {
    await peer.close();
    peer = await seededPeer({ rateLimit: 3 });
    const gh = octokit(peer, ISSUES_TOKEN);
    for (let i = 0; i < 3; i++) await gh.rest.repos.get(repoArgs);
    const error = (await gh.rest.repos.get(repoArgs).catch((e: unknown) => e)) as RequestError;
    expect(error.status).toBe(403);
    expect(error.message).toContain("API rate limit exceeded");
    expect(error.response?.headers["x-ratelimit-remaining"]).toBe("0");
    expect(peer.stats().byToken[ISSUES_TOKEN]).toMatchObject({ requests: 4, rateLimited: 3 });
  });

  it("rejects a fault it cannot produce", () => {
    expect(() => peer.inject({ status: 418 as 500 })).toThrow(/500, 502, 403 or 429/);
    expect(() => peer.inject({ status: 500, times: 0 })).toThrow(/positive integer/);
  });
});
