import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { claudeOn } from "../src/ops/commands/golden-claude.js";
import { createOps } from "../src/ops/context.js";
import { loadSettings } from "../src/ops/settings.js";
import type { Machine } from "../src/types.js";

/** A Machines API that answers exec and metadata as a real gc would; records exec commands. */
function fakeFly(exec: { status: number; exitCode?: number }, metadata: Record<string, string> = {}) {
  const commands: unknown[] = [];
  const fetch = async (request: Request) => {
    const path = new URL(request.url).pathname;
    if (path.endsWith("/exec")) {
      commands.push(((await request.json()) as { command: unknown }).command);
      const body = exec.status === 200 ? { exit_code: exec.exitCode, stdout: "" } : { error: "not here" };
      return Response.json(body, { status: exec.status });
    }
    if (path.endsWith("/metadata")) return Response.json(metadata);
    return Response.json({ error: "unexpected" }, { status: 500 });
  };
  const ops = createOps({
    settings: loadSettings("/nonexistent", { APP_NAME: "swarm", FLY_API_TOKEN: "t" }),
    flags: { dryRun: false, yes: false },
    say: () => {},
    logger: pino({ level: "silent" }),
    client: { fetch, retry: { attempts: 1 } },
  });
  return { ops, commands };
}

const gc: Machine = { id: "m1", name: "gc-a", state: "started" };

describe("is Claude running on a golden claude?", () => {
  it("asks pgrep through exec: exit 0 means running, 1 not running", async () => {
    const running = fakeFly({ status: 200, exitCode: 0 });
    expect(await claudeOn(running.ops, gc)).toEqual({ state: "running", how: "pgrep on the machine" });
    expect(running.commands).toEqual([["pgrep", "-f", "(^|/)claude( |$)|claude-code/cli\\.js"]]);
    expect((await claudeOn(fakeFly({ status: 200, exitCode: 1 }).ops, gc)).state).toBe("not running");
  });

  it("falls back to what the machine reports when exec is unavailable, and says when it cannot tell", async () => {
    expect((await claudeOn(fakeFly({ status: 404 }, { claude: "running" }).ops, gc)).state).toBe("running");
    expect((await claudeOn(fakeFly({ status: 501 }, { claude: "stopped" }).ops, gc)).state).toBe("not running");
    const unknown = await claudeOn(fakeFly({ status: 501 }).ops, gc);
    expect(unknown.state).toBe("unknown");
    expect(unknown.how).toMatch(/exec failed .*HTTP 501.*no claude metadata/);
  });

  it("does not ask a stopped machine, and does not hide a refused token", async () => {
    const { ops, commands } = fakeFly({ status: 200, exitCode: 0 });
    expect(await claudeOn(ops, { ...gc, state: "stopped" })).toEqual({
      state: "not running",
      how: "the machine is stopped",
    });
    expect(commands).toEqual([]);
    await expect(claudeOn(fakeFly({ status: 401 }).ops, gc)).rejects.toThrow(/HTTP 401/);
  });
});
