import { setTimeout as sleep } from "node:timers/promises";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callAsAgent } from "./agent-mcp.js";
import { isRoot, REPO, startWorld, text, type World } from "./harness.js";

// Small budgets and short windows so that "after the window" is seconds, not minutes.
const PUSHES = 3;
const READS = 4;
const PULLS = 2;
const FETCHES = 2;
const WINDOW_MS = 20_000;
const rate = (max: number) => ({ max, windowMs: WINDOW_MS });

/** The agent's flood: `n` calls of one tool at once, each its own curl process as `thopter`. */
const flood = (w: World, n: number, tool: string, args: Record<string, unknown> = {}) =>
  Promise.all(Array.from({ length: n }, () => callAsAgent(w, tool, args)));

/** Requests to the GitHub peer (REST and git) from `since` on whose method and path match. */
const requests = (w: World, since: number, method: string, path: RegExp) =>
  w.peer.requestLog.slice(since).filter((r) => r.method === method && path.test(r.path)).length;

/** Checks that every refusal names its limit and the moment to retry; returns the latest such moment. */
function refusals(results: CallToolResult[], limit: RegExp): Date {
  const refused = results.filter((r) => r.isError);
  const times = refused.map((r) => {
    expect(text(r)).toMatch(limit);
    const at = /Try again after (\d{4}-\d\d-\d\dT[\d:.]+Z) \(in (\d+) s\), or /.exec(text(r));
    expect(at, text(r)).not.toBeNull();
    expect(Number(at![2])).toBeLessThanOrEqual(WINDOW_MS / 1000);
    return new Date(at![1]!).getTime();
  });
  return new Date(Math.max(...times));
}

const untilAfter = (at: Date) => sleep(Math.max(0, at.getTime() - Date.now() + 200));

/** Waits until the hub has been told about `n` refused calls of `tool`: refusals are audited like every call. */
const refusedAudits = (w: World, tool: string, n: number) =>
  w.receiver.waitFor(
    (reports) =>
      reports.filter((r) => r.body.kind === "audit" && r.body.tool === tool && r.body.outcome === "refused").length >=
      n,
  );

describe.skipIf(!isRoot)(
  "broker limits: every tool that reaches GitHub has a per-thopter budget",
  { timeout: 180_000 },
  () => {
    let w: World;
    beforeAll(async () => {
      w = await startWorld({
        limits: {
          rates: {
            pushes: rate(PUSHES),
            issueReads: rate(READS),
            pullRequests: rate(PULLS),
            originFetches: rate(FETCHES),
          },
        },
      });
    });
    afterAll(() => w?.close());

    it("a push_branch flood reaches origin's git server at most the budgeted number of times", async () => {
      const sha = await w.commit({ "hello.txt": "hello\n" }, "Add hello");
      const since = w.peer.requestLog.length;
      const results = await flood(w, 12, "push_branch");
      expect(results.filter((r) => !r.isError).map((r) => r.structuredContent?.sha)).toEqual(Array(PUSHES).fill(sha));
      const retryAt = refusals(
        results,
        /^Push limit reached: a push counts against 3 pushes per 20 seconds\. .* or keep committing meanwhile/,
      );
      // Every push that git starts asks origin for its refs first: one per allowed call, none for the refused ones.
      expect(requests(w, since, "GET", /\/info\/refs\?service=git-receive-pack$/)).toBe(PUSHES);
      expect(requests(w, since, "POST", /\/git-receive-pack$/)).toBeLessThanOrEqual(PUSHES);
      await refusedAudits(w, "push_branch", 12 - PUSHES);

      // Once the window has passed, the agent's next commit goes out.
      await untilAfter(retryAt);
      const next = await w.commit({ "hello.txt": "hello, world\n" }, "Greet the world");
      const again = await callAsAgent(w, "push_branch", {});
      expect(again.isError, text(again)).toBeFalsy();
      expect((await w.peer.log(REPO, w.workBranch))[0]!.sha).toBe(next);
    });

    it("a get_issue flood makes at most the budgeted REST calls", async () => {
      const before = w.peer.stats().byRoute;
      const results = await flood(w, 25, "get_issue");
      const after = w.peer.stats().byRoute;
      const delta = (route: string) => (after[route] ?? 0) - (before[route] ?? 0);
      expect(results.filter((r) => !r.isError)).toHaveLength(READS);
      expect(delta("GET /repos/{owner}/{repo}/issues/{issue_number}")).toBe(READS);
      expect(delta("GET /repos/{owner}/{repo}/issues/{issue_number}/comments")).toBe(READS);
      const retryAt = refusals(
        results,
        /^Issue read limit reached: reading the issue counts against 4 get_issue calls per 20 seconds\. .* or keep working/,
      );
      await refusedAudits(w, "get_issue", 25 - READS);

      await untilAfter(retryAt);
      const again = await callAsAgent(w, "get_issue", {});
      expect(again.isError, text(again)).toBeFalsy();
      expect(text(again)).toContain("Add a greeting");
    });

    it("an open_pull_request flood makes at most the budgeted pull-request calls", async () => {
      const since = w.peer.requestLog.length;
      const results = await flood(w, 10, "open_pull_request", { title: "Greeting", body: "Fixes #1" });
      const ok = results.filter((r) => !r.isError);
      expect(ok).toHaveLength(PULLS);
      // The same pull request each time: one was created, the other call found it.
      expect(new Set(ok.map((r) => r.structuredContent?.number)).size).toBe(1);
      expect(requests(w, since, "GET", /\/pulls\?/)).toBe(PULLS);
      expect(requests(w, since, "POST", /\/pulls$/)).toBeLessThanOrEqual(1);
      const retryAt = refusals(
        results,
        /^Pull request limit reached: open_pull_request counts against 2 open_pull_request calls per 20 seconds\. .* or use the pull request you already have/,
      );
      await refusedAudits(w, "open_pull_request", 10 - PULLS);

      await untilAfter(retryAt);
      const again = await callAsAgent(w, "open_pull_request", { title: "Greeting", body: "Fixes #1" });
      expect(again.structuredContent).toMatchObject({ number: ok[0]!.structuredContent?.number, existing: true });
    });

    it("an update_from_origin flood fetches from origin at most the budgeted number of times", async () => {
      const since = w.peer.requestLog.length;
      const results = await flood(w, 10, "update_from_origin");
      expect(results.filter((r) => !r.isError)).toHaveLength(FETCHES);
      expect(requests(w, since, "GET", /\/info\/refs\?service=git-upload-pack$/)).toBe(FETCHES);
      const retryAt = refusals(
        results,
        /^Origin fetch limit reached: an update counts against 2 update_from_origin calls per 20 seconds\. /,
      );
      await refusedAudits(w, "update_from_origin", 10 - FETCHES);

      await untilAfter(retryAt);
      const again = await callAsAgent(w, "update_from_origin", {});
      expect(again.isError, text(again)).toBeFalsy();
    });
  },
);
