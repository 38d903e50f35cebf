import { describe, expect, it } from "vitest";
import { Command, canTransition, isWorkBranch, NAME_PATTERN, sourceKey, urlHost, workBranch } from "../src/index.js";

describe("protocol", () => {
  it("refuses names that could walk a path", () => {
    for (const bad of ["../etc", "Default", "", ".hidden", "a/b", "x".repeat(64)])
      expect(NAME_PATTERN.test(bad)).toBe(false);
    for (const good of ["default", "plan", "josh-maxplan", "v1.2_x"]) expect(NAME_PATTERN.test(good)).toBe(true);
  });

  it("brackets IPv6 hosts for URLs, once", () => {
    expect(["::1", "[::1]", "fdaa::3", "127.0.0.1", "hub.internal"].map(urlHost)).toEqual([
      "[::1]",
      "[::1]",
      "[fdaa::3]",
      "127.0.0.1",
      "hub.internal",
    ]);
  });

  it("fills command defaults", () => {
    expect(Command.parse({ kind: "start" })).toEqual({
      kind: "start",
      gc: "default",
      prompt: "default",
      count: 1,
      instructions: "",
    });
  });

  it("follows the lifecycle of docs/architecture.md#thopter-states", () => {
    expect(canTransition("working", "waiting")).toBe(true);
    expect(canTransition("waiting", "working")).toBe(true);
    expect(canTransition("gone", "working")).toBe(false);
    expect(canTransition("failed", "working")).toBe(false);
  });

  it("names branches and sources stably", () => {
    expect(workBranch(42, "ab12")).toBe("thopter/42--ab12");
    expect(sourceKey({ repo: "o/r", issueNumber: 3, commentId: null })).toBe("o/r#3/body");
    expect(sourceKey({ repo: "o/r", issueNumber: 3, commentId: 9 })).toBe("o/r#3/c9");
    expect(isWorkBranch(workBranch(7, "5e057531-1"))).toBe(true);
    for (const other of ["thopter/evil", "thopter/7--", "thopter/0--a", "thopter/7--a/../main", "feature/7--a"])
      expect(isWorkBranch(other), other).toBe(false);
    // Line comments and reviews have id spaces of their own: the same number never collides with a comment's.
    expect(sourceKey({ repo: "o/r", issueNumber: 3, commentId: 9, kind: "review-comment" })).toBe("o/r#3/rc9");
    expect(sourceKey({ repo: "o/r", issueNumber: 3, commentId: 9, kind: "review" })).toBe("o/r#3/r9");
  });
});
