import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Observer, type ObserverConfig, Reporter, readLastState, Spool, statusFromHook } from "@thopter/agent";
import { StatusReport } from "@thopter/protocol";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeCollector } from "./fake-collector.js";

const AT = new Date("2026-01-02T03:04:05.000Z");

describe("hook events → status reports", () => {
  it("maps each lifecycle hook to the state it means, with why Claude waits", () => {
    const map = (input: Record<string, unknown>) => {
      const report = statusFromHook({ hook_event_name: "", ...input } as never, AT);
      if (report) expect(StatusReport.safeParse(report).success).toBe(true);
      return report && { state: report.state, reason: report.reason, detail: report.detail };
    };
    expect(map({ hook_event_name: "SessionStart", source: "startup" })).toEqual({
      state: "working",
      reason: undefined,
      detail: "startup",
    });
    expect(map({ hook_event_name: "UserPromptSubmit", prompt: "go" })?.state).toBe("working");
    expect(map({ hook_event_name: "PreToolUse", tool_name: "Bash" })).toMatchObject({
      state: "working",
      detail: "Bash",
    });
    expect(map({ hook_event_name: "PostToolUse", tool_name: "Edit" })?.state).toBe("working");
    // What a built-in tool works on comes along (relative to the session's folder), for the dashboard's words.
    const tool = (tool_name: string, tool_input: unknown) =>
      map({ hook_event_name: "PreToolUse", tool_name, tool_input, cwd: "/workspace/repo" })?.detail;
    expect(tool("Read", { file_path: "/workspace/repo/src/add.js" })).toBe("Read src/add.js");
    expect(tool("Read", { file_path: "/etc/hosts" })).toBe("Read /etc/hosts");
    expect(tool("Bash", { command: "npm test\n  -- --watch=false" })).toBe("Bash npm test -- --watch=false");
    expect(tool("Bash", { command: `curl -H "token: ghp_${"b".repeat(36)}"` })).toMatch(
      /^Bash curl -H "token: \[REDACTED\]/,
    );
    expect(tool("mcp__thopter__push_branch", { branch: "x" })).toBe("mcp__thopter__push_branch");
    expect(tool("Edit", { file_path: 5 })).toBe("Edit");
    expect(map({ hook_event_name: "Stop", last_assistant_message: "Done." })).toMatchObject({
      state: "waiting",
      reason: "idle",
    });
    expect(map({ hook_event_name: "Stop", last_assistant_message: "Shall I use **hello**?\n" })?.reason).toBe(
      "question",
    );
    expect(map({ hook_event_name: "Notification", notification_type: "permission_prompt" })?.reason).toBe("permission");
    expect(map({ hook_event_name: "Notification", notification_type: "idle_prompt" })?.reason).toBe("idle");
    expect(map({ hook_event_name: "Notification", notification_type: "elicitation_dialog" })?.reason).toBe("question");
    expect(map({ hook_event_name: "Notification", message: "Claude needs your permission to use Bash" })?.reason).toBe(
      "permission",
    );
    expect(map({ hook_event_name: "SessionEnd", reason: "prompt_input_exit" })?.state).toBe("ended");
    expect(map({ hook_event_name: "PreCompact" })).toBeUndefined();
  });

  it("keeps details short, on one line, and without secrets", () => {
    const token = `ghp_${"a".repeat(36)}`;
    const report = statusFromHook(
      { hook_event_name: "Stop", last_assistant_message: `Pushed with ${token}\n${"x".repeat(500)}`, session_id: "s1" },
      AT,
    )!;
    expect(report.detail).not.toContain(token);
    expect(report.detail).toMatch(/^Pushed with \[REDACTED\] x+…$/);
    expect(report.detail!.length).toBeLessThanOrEqual(200);
    expect(report).toMatchObject({ sessionId: "s1", at: AT.toISOString() });
  });
});

describe("reporter and observer", () => {
  let dir: string;
  let hub: Awaited<ReturnType<typeof fakeCollector>>;
  let config: ObserverConfig;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "observer-"));
    writeFileSync(join(dir, "token"), "thopter-status.t1.secret\n");
    hub = await fakeCollector();
    config = {
      thopterId: "t1",
      collectorUrl: hub.url,
      statusTokenFile: join(dir, "token"),
      stateDir: dir,
      tmuxSocket: join(dir, "tmux.sock"),
      session: "thopter",
      heartbeatMs: 10_000,
      usageReportMs: 5_000,
      fallbackAfterMs: 60_000,
      postTimeoutMs: 500,
    };
  });
  afterEach(async () => {
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const report = (event: string, state: StatusReport["state"]): StatusReport => ({
    state,
    event,
    at: AT.toISOString(),
  });

  it("posts with the status token; while the hub is down, spools in order and sends it all once it is back", async () => {
    const reporter = new Reporter(config);
    expect(await reporter.report(report("SessionStart", "working"), true)).toBe("sent");
    expect(hub.received[0]?.auth).toBe("Bearer thopter-status.t1.secret");

    hub.answerWith(503);
    expect(await reporter.report(report("PreToolUse", "working"), true)).toBe("spooled");
    hub.answerWith(200);
    // Something already waits: a new report queues behind it instead of overtaking it.
    expect(await reporter.report(report("Stop", "waiting"), true)).toBe("spooled");
    expect(hub.received.map((r) => r.body.event)).toEqual(["SessionStart"]);
    expect(await reporter.flush()).toBe(2);
    expect(hub.received.map((r) => r.body.event)).toEqual(["SessionStart", "PreToolUse", "Stop"]);
    expect(reporter.spool.pending()).toBe(false);
  });

  it("keeps a report a hook spools while the observer is sending the spool, in order behind the rest", async () => {
    const hook = new Spool(dir);
    const observer = new Spool(dir);
    hook.append(report("PreToolUse", "working"));
    hook.append(report("PostToolUse", "working"));
    const sent: string[] = [];
    const first = await observer.drain(async (r) => {
      // Another hook spools while the first report is on its way; then the hub goes away.
      if (sent.length === 0) new Spool(dir).append(report("Stop", "waiting"));
      sent.push(r.event);
      return sent.length < 2 ? "sent" : "retry";
    });
    expect(first).toBe(1);
    expect(observer.pending()).toBe(true);
    const resend = async (r: StatusReport) => {
      sent.push(r.event);
      return "sent" as const;
    };
    expect(await observer.drain(resend)).toBe(2);
    expect(sent).toEqual(["PreToolUse", "PostToolUse", "PostToolUse", "Stop"]);
    expect(observer.pending()).toBe(false);
  });

  it("drops a report the hub refuses (4xx) instead of retrying it forever", async () => {
    const reporter = new Reporter(config);
    hub.answerWith(401);
    expect(await reporter.report(report("Stop", "waiting"), true)).toBe("refused");
    expect(reporter.spool.pending()).toBe(false);
  });

  it("never waits on an unreachable hub longer than its timeout", async () => {
    const reporter = new Reporter({ ...config, collectorUrl: "http://127.0.0.1:1" });
    const started = Date.now();
    expect(await reporter.report(report("Stop", "waiting"), true)).toBe("spooled");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("heartbeats the last state when nothing was reported for a while, keeping why it waits", async () => {
    const log = pino({ level: "silent" });
    const now = Date.now();
    await new Reporter(config).report({ ...report("Stop", "waiting"), reason: "question" }, true, now);
    const observer = new Observer({ config, log, pane: async () => "same" });
    await observer.tick(now + 5_000);
    expect(hub.received).toHaveLength(1);
    await observer.tick(now + 11_000);
    expect(hub.received.at(-1)?.body).toMatchObject({ state: "waiting", reason: "question", event: "heartbeat" });
    // A heartbeat is not a hook: the pane fallback stays off because hooks have fired.
    expect(readLastState(dir)?.hookAt).toBe(now);
  });

  it("falls back to pane activity only while no hook has ever fired", async () => {
    const log = pino({ level: "silent" });
    let pane = "a";
    const observer = new Observer({ config: { ...config, heartbeatMs: 3_600_000 }, log, pane: async () => pane });
    const start = Date.now();
    await observer.tick(start + 1_000);
    expect(hub.received).toEqual([]);
    await observer.tick(start + 61_000);
    expect(hub.received.at(-1)?.body).toMatchObject({ state: "working", reason: "pane" });
    await observer.tick(start + 125_000);
    expect(hub.received.at(-1)?.body).toMatchObject({ state: "waiting", reason: "pane" });
    pane = "b";
    await new Reporter(config).report(report("UserPromptSubmit", "working"), true, start + 126_000);
    const count = hub.received.length;
    await observer.tick(start + 190_000);
    expect(hub.received).toHaveLength(count);
  });
});
