import type { TimelineEntry } from "@thopter/protocol";
import { describe, expect, it } from "vitest";
import { activityText, reasonWords } from "../src/dashboard/activity.js";
import { reportRows } from "../src/dashboard/timeline.js";

const at = "2026-01-01T00:00:00.000Z";
const observer = (kind: string, message: string, state = "working"): TimelineEntry => ({
  at,
  source: "observer",
  kind,
  state,
  message,
});

describe("timeline entries in words", () => {
  it("says what a tool call does", () => {
    const words = (detail: string) => activityText(observer("PreToolUse", `PreToolUse: ${detail}`));
    expect(words("Read src/add.js")).toBe("reading src/add.js");
    expect(words("Edit src/add.js")).toBe("editing src/add.js");
    expect(words("Write notes.md")).toBe("writing notes.md");
    expect(words("Bash npm test")).toBe("running tests: `npm test`");
    expect(words("Bash cd web && pnpm run test -- --run")).toBe("running tests: `cd web && pnpm run test -- --run`");
    expect(words("Bash npm install")).toBe("running `npm install`");
    expect(words("Grep TODO")).toBe("searching the code for “TODO”");
    expect(words("mcp__thopter__push_branch")).toBe("pushing the branch");
    expect(words("mcp__docs__lookup")).toBe("using lookup (docs)");
    expect(words("SomeNewTool x")).toBe("using SomeNewTool on x");
    // A message not in the observer's format is shown as it came.
    expect(activityText(observer("PostToolUse", "odd"))).toBe("odd");
  });

  it("says why Claude waits, and what the broker did", () => {
    expect(activityText(observer("Stop", "Stop: question: Which colour?", "waiting"))).toBe(
      "waiting for your answer: Which colour?",
    );
    expect(activityText(observer("Stop", "Stop: idle: Done.", "waiting"))).toBe("finished its turn: Done.");
    expect(activityText(observer("Notification", "Notification: permission: Claude needs your permission"))).toBe(
      "waiting for your permission: Claude needs your permission",
    );
    const broker = (kind: string, state: string, message: string): TimelineEntry => ({
      at,
      source: "broker",
      kind,
      state,
      message,
    });
    expect(activityText(broker("tool:push_branch", "ok", "pushed"))).toBe("pushed the branch: pushed");
    expect(activityText(broker("tool:push_branch", "refused", "no commits"))).toBe(
      "pushing the branch was refused: no commits",
    );
    expect(activityText(broker("report_status", "needs_input", "Which database?"))).toBe(
      "asks for your input: Which database?",
    );
    expect(reasonWords("Notification (idle)")).toBe("waiting for you");
    expect(reasonWords("PreToolUse")).toBeUndefined();
    expect(reasonWords("report_status done")).toBe("reported done");
    expect(reasonWords("stopped from the dashboard")).toBe("stopped from the dashboard");
  });

  it("makes one row of a tool call's PreToolUse and PostToolUse, also with the broker's audit between them", () => {
    const rows = reportRows([
      observer("PreToolUse", "PreToolUse: Read a.js"),
      observer("PostToolUse", "PostToolUse: Read a.js"),
      observer("PreToolUse", "PreToolUse: mcp__thopter__push_branch"),
      { at, source: "broker", kind: "tool:push_branch", state: "ok", message: "pushed" },
      observer("PostToolUse", "PostToolUse: mcp__thopter__push_branch"),
      observer("PreToolUse", "PreToolUse: Bash npm test"),
      observer("PostToolUse", "PostToolUse: Read b.js"),
    ]);
    expect(rows.map((r) => [r.text, r.finished !== undefined])).toEqual([
      ["reading a.js", true],
      ["pushing the branch", true],
      ["pushed the branch: pushed", false],
      ["running tests: `npm test`", false],
      ["reading b.js", false],
    ]);
  });
});
