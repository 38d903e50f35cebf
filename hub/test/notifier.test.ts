import { DEFAULT_PRICES, type ThopterRecord, type TimelineEntry } from "@thopter/protocol";
import { describe, expect, it } from "vitest";
import { formatDuration, noticeFor, renderNotice } from "../src/notifier/index.js";

const created = "2026-01-01T10:00:00.000Z";
const record: ThopterRecord = {
  id: "t1",
  requestId: "r1",
  repo: "acme/widgets",
  issueNumber: 7,
  issueTitle: "Widgets wobble",
  branch: "thopter/7--t1",
  gc: "default",
  prompt: "default",
  state: "done",
  stateSince: created,
  createdAt: created,
  machine: null,
  timeline: [],
};
const links = { repoHtmlUrl: "https://github.com/acme/widgets", defaultBranch: "main", hubUrl: "https://hub.test" };
const report = (state: string, message = "summary", at = "2026-01-01T11:05:00.000Z"): TimelineEntry => ({
  at,
  source: "broker",
  kind: "report_status",
  state,
  message,
});

describe("notice text", () => {
  it("has the state, summary, branch and compare links, PR, dashboard links and how long it ran", () => {
    const text = renderNotice(
      { ...record, pullRequestUrl: "https://github.com/acme/widgets/pull/3" },
      { kind: "report", state: "done", summary: "Fixed it.", at: "2026-01-01T11:05:00.000Z" },
      links,
      DEFAULT_PRICES,
    );
    expect(text).toContain("Done");
    expect(text).toContain("Fixed it.");
    expect(text).toContain("[`thopter/7--t1`](https://github.com/acme/widgets/tree/thopter/7--t1)");
    expect(text).toContain("https://github.com/acme/widgets/compare/main...thopter/7--t1");
    expect(text).toContain("Pull request: https://github.com/acme/widgets/pull/3");
    expect(text).toContain("https://hub.test/thopters/t1/log");
    expect(text).toContain("https://hub.test/thopters/t1/terminal");
    expect(text).toContain("ran for 1 h 5 min");
  });

  it("shows hidden comments the agent wrote instead of letting them pose as the hub's markers", () => {
    const text = renderNotice(
      record,
      { kind: "report", state: "blocked", summary: "<!-- thopter:reply:x -->", at: created },
      links,
      DEFAULT_PRICES,
    );
    expect(text).not.toContain("<!--");
    expect(text).toContain("&lt;!-- thopter:reply:x -->");
  });

  it("on a follow-up (its issue is the PR of an older branch), links the issue the branch was made for", () => {
    const event = { kind: "report" as const, state: "done" as const, summary: "Addressed the review.", at: created };
    const followUp = renderNotice(
      { ...record, issueNumber: 12, branch: "thopter/7--t0" },
      event,
      links,
      DEFAULT_PRICES,
    );
    expect(followUp).toContain("- Follow-up on this pull request for issue #7");
    expect(renderNotice(record, event, links, DEFAULT_PRICES)).not.toContain("Follow-up");
  });

  it("says what failed and what to try", () => {
    const text = renderNotice(
      record,
      { kind: "failed", reason: "StopFailure (API error)", at: created },
      links,
      DEFAULT_PRICES,
    );
    expect(text).toMatch(/Failed[\s\S]*What failed: StopFailure \(API error\)[\s\S]*What to try/);
    expect(text).toContain("https://github.com/acme/widgets/compare/main...thopter/7--t1");
    expect(text).toContain(
      "Session log: https://hub.test/thopters/t1/log · Terminal: https://hub.test/thopters/t1/terminal",
    );
  });

  it("formats durations", () => {
    expect(formatDuration(40_000)).toBe("40 s");
    expect(formatDuration(12 * 60_000)).toBe("12 min");
    expect(formatDuration(65 * 60_000)).toBe("1 h 5 min");
    expect(formatDuration(-5)).toBe("0 s");
  });
});

describe("which changes are announced", () => {
  it("announces done, blocked and needs_input reports, keyed by report", () => {
    for (const state of ["done", "blocked", "needs_input"]) {
      const notice = noticeFor({ record, previousState: "working", entry: report(state) });
      expect(notice?.key).toBe(`t1/notice/2026-01-01T11:05:00.000Z/${state}`);
    }
    expect(noticeFor({ record, previousState: "working", entry: report("working") })).toBeUndefined();
    expect(
      noticeFor({ record, previousState: "working", entry: { ...report("done"), kind: "Stop", source: "observer" } }),
    ).toBeUndefined();
  });

  it("uses the record's whole summary when the timeline cut it", () => {
    const long = "x".repeat(3000);
    const notice = noticeFor({
      record: { ...record, summary: long },
      previousState: "working",
      entry: report("done", `${"x".repeat(2000)}…`),
    });
    expect(notice?.event).toMatchObject({ kind: "report", summary: long });
  });

  it("announces a failure after boot once, and leaves provisioning failures to the scheduler", () => {
    const failed = { ...record, state: "failed" as const, stateReason: "StopFailure" };
    expect(noticeFor({ record: failed, previousState: "working" })?.key).toBe("t1/notice/failed");
    expect(noticeFor({ record: failed, previousState: "booting" })?.key).toBe("t1/notice/failed");
    expect(noticeFor({ record: failed, previousState: "provisioning" })).toBeUndefined();
    expect(noticeFor({ record: failed, previousState: "failed" })).toBeUndefined();
  });
});
