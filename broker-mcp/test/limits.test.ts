import { describe, expect, it } from "vitest";
import { secretMatcher } from "../src/git/secret-search.js";
import { Budgets, type Rates, SlidingWindow } from "../src/rate-limit.js";
import { bearerMatches } from "../src/server.js";

describe("comment rate limit", () => {
  it("allows max per window and names the moment the oldest slot frees", () => {
    let now = 1_000_000;
    const window = new SlidingWindow(5, 600_000, () => now);
    for (let i = 0; i < 5; i++) {
      expect(window.take()).toBeNull();
      now += 1_000;
    }
    expect(window.take()?.getTime()).toBe(1_000_000 + 600_000);
    now = 1_000_000 + 600_000;
    expect(window.take()).toBeNull();
    expect(window.take()).not.toBeNull();
  });
});

describe("per-thopter budgets", () => {
  const rates: Rates = {
    comments: { max: 5, windowMs: 600_000 },
    pushes: { max: 2, windowMs: 300_000 },
    pullRequests: { max: 1, windowMs: 600_000 },
    issueReads: { max: 3, windowMs: 15_000 },
    originFetches: { max: 1, windowMs: 60_000 },
    pullReads: { max: 3, windowMs: 60_000 },
  };

  it("keeps each budget apart and refuses with the limit, the retry time and what to do instead", () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const budgets = new Budgets(rates, () => now);
    budgets.spend("pushes", "a push", "keep committing");
    now += 10_000;
    budgets.spend("pushes", "a push", "keep committing");
    budgets.spend("issueReads", "reading the issue", "wait");
    expect(() => budgets.spend("pushes", "a push", "keep committing")).toThrow(
      "Push limit reached: a push counts against 2 pushes per 5 minutes. Try again after 2026-01-01T00:05:00.000Z (in 290 s), or keep committing.",
    );
    budgets.spend("issueReads", "reading the issue", "wait");
    budgets.spend("issueReads", "reading the issue", "wait");
    expect(() => budgets.spend("issueReads", "reading the issue", "wait")).toThrow(
      /^Issue read limit reached: reading the issue counts against 3 get_issue calls per 15 seconds\. Try again after 2026-01-01T00:00:25\.000Z \(in 15 s\), or wait\.$/,
    );
    budgets.spend("originFetches", "an update", "wait");
    expect(() => budgets.spend("originFetches", "an update", "wait")).toThrow(/per minute\. /);
    now += 290_000;
    budgets.spend("pushes", "a push", "keep committing");
    expect(() => budgets.spend("pushes", "a push", "keep committing")).toThrow(/\(in 10 s\)/);
  });
});

describe("secret scan of pushed lines", () => {
  const token = "tok-0123456789abcdef-broker";
  const match = secretMatcher([token]);

  it("finds the broker's own token and well-known shapes, and names which", () => {
    expect(match(`const t = "${token}";`)?.what).toBe("the broker's GitHub token");
    expect(match(`gh auth ghp_${"a".repeat(36)}`)?.what).toMatch(/GitHub token/);
    expect(match(`x github_pat_${"A".repeat(40)}`)?.what).toMatch(/fine-grained/);
    expect(match(`ANTHROPIC_API_KEY=sk-ant-api03-${"z".repeat(30)}`)?.what).toMatch(/Anthropic/);
  });

  it("lets ordinary code through", () => {
    expect(match("const ghp = githubPath('tokens');")).toBeNull();
    expect(match("sk-ant- is the prefix of Anthropic keys")).toBeNull();
  });
});

describe("MCP bearer key", () => {
  it("matches only the exact key", () => {
    const key = "k".repeat(64);
    expect(bearerMatches(`Bearer ${key}`, key)).toBe(true);
    expect(bearerMatches(`Bearer ${key}x`, key)).toBe(false);
    expect(bearerMatches(`bearer ${key}`, key)).toBe(false);
    expect(bearerMatches(key, key)).toBe(false);
    expect(bearerMatches(undefined, key)).toBe(false);
  });
});
