import { once } from "node:events";
import { readFile, stat } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isRoot, prepareClaudeHome } from "../../helpers/claude.js";
import { startClaudeInTmux } from "../../helpers/claude-tmux.js";
import { poll } from "../../helpers/poll.js";
import { bash, callTools, failWith, say, startModelPeer } from "../../peers/model/index.js";

type HookInput = Record<string, unknown> & { hook_event_name: string };

/** Records what `type: "http"` hooks POST, in arrival order. */
async function startHookRecorder() {
  const received: HookInput[] = [];
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    received.push(JSON.parse(body) as HookInput);
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const waitFor = (event: string) =>
    poll(
      () => received.find((input) => input.hook_event_name === event),
      30_000,
      () => `the ${event} http hook (got ${received.map((input) => input.hook_event_name)})`,
    );
  return { url: `http://127.0.0.1:${port}/hook`, received, waitFor, close: () => server.close() };
}

/** A command hook that appends its JSON input (one line) to `log`. */
const appendTo = (log: string) => ({ type: "command", command: `{ cat; echo; } >> ${log}` });

/** The inputs the `appendTo` hooks wrote so far, in order. */
async function hookLog(log: string): Promise<HookInput[]> {
  return (await readFile(log, "utf8").catch(() => ""))
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as HookInput);
}

const EVENTS = ["SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop", "Notification", "SessionEnd"];
/** 2.1.330 runs only command hooks for SessionStart; the other six also take `type: "http"` hooks. */
const HTTP_EVENTS = EVENTS.filter((event) => event !== "SessionStart");

describe.skipIf(!isRoot)("Claude Code hooks with the real CLI in tmux (root only: it runs as the thopter user)", () => {
  it("fires every lifecycle hook in order, each naming the session and its transcript", async () => {
    const recorder = await startHookRecorder();
    const peer = await startModelPeer({ scenario: [callTools(bash("echo hi")), say("Done here.")] });
    const home = await prepareClaudeHome({ globalConfig: { messageIdleNotifThresholdMs: 1_000 } });
    const log = join(home.root, "hooks.jsonl");
    const hooks = Object.fromEntries(
      EVENTS.map((event) => {
        const handlers: Array<Record<string, unknown>> = [appendTo(log)];
        if (HTTP_EVENTS.includes(event)) handlers.push({ type: "http", url: `${recorder.url}/${event}` });
        return [event, [{ matcher: "*", hooks: handlers }]];
      }),
    );
    await home.writeSettings({ hooks });
    const cli = await startClaudeInTmux(home, peer.url, { prompt: "Say hi" });
    try {
      await cli.explain(peer.waitForTurn(1, 45_000));
      // Idle past messageIdleNotifThresholdMs → Notification (idle_prompt); then /exit → SessionEnd.
      const notification = await cli.explain(recorder.waitFor("Notification"));
      await cli.type("/exit");
      const end = await cli.explain(recorder.waitFor("SessionEnd"));

      // Command and http hooks of one event run side by side: the command hook may finish a little later.
      const commandInputs = await poll(
        async () => {
          const inputs = await hookLog(log);
          return inputs.at(-1)?.hook_event_name === "SessionEnd" ? inputs : undefined;
        },
        10_000,
        () => "the SessionEnd command hook",
      );
      expect(commandInputs.map((input) => input.hook_event_name)).toEqual(EVENTS);
      expect(recorder.received.map((input) => input.hook_event_name)).toEqual(HTTP_EVENTS);
      expect((await stat(log)).uid).toBe((await stat(home.home)).uid);
      for (const input of [...commandInputs, ...recorder.received]) {
        expect(input).toMatchObject({ session_id: cli.sessionId, transcript_path: cli.transcriptPath, cwd: home.cwd });
      }

      const byEvent = (event: string) => recorder.received.find((input) => input.hook_event_name === event);
      expect(commandInputs[0]).toMatchObject({ source: "startup" });
      expect(byEvent("UserPromptSubmit")).toMatchObject({ prompt: "Say hi" });
      expect(byEvent("PreToolUse")).toMatchObject({ tool_name: "Bash", tool_input: { command: "echo hi" } });
      expect(byEvent("PostToolUse")).toMatchObject({ tool_name: "Bash", tool_response: { stdout: "hi" } });
      expect(byEvent("Stop")).toMatchObject({ last_assistant_message: "Done here." });
      expect(notification).toMatchObject({ notification_type: "idle_prompt" });
      expect(end).toMatchObject({ reason: "prompt_input_exit" });
      expect(await readFile(cli.transcriptPath, "utf8")).toContain("Done here.");
    } finally {
      await cli.stop();
      await peer.close();
      recorder.close();
      await home.cleanup();
    }
  }, 90_000);

  it("ends a turn the API refused with StopFailure instead of Stop", async () => {
    const peer = await startModelPeer({ scenario: [failWith(400, "invalid_request_error", "scripted refusal")] });
    const home = await prepareClaudeHome();
    const log = join(home.root, "hooks.jsonl");
    const events = ["Stop", "StopFailure", "SessionEnd"];
    await home.writeSettings({
      hooks: Object.fromEntries(events.map((event) => [event, [{ hooks: [appendTo(log)] }]])),
    });
    // In tmux, as thopters run it: `-p` exits right after the failure, and its StopFailure hook can lose that race.
    const cli = await startClaudeInTmux(home, peer.url, { prompt: "Try" });
    const logged = (event: string) =>
      poll(
        async () => {
          const inputs = await hookLog(log);
          return inputs.some((input) => input.hook_event_name === event) ? inputs : undefined;
        },
        30_000,
        () => `the ${event} command hook`,
      );
    try {
      const failed = await cli.explain(logged("StopFailure"));
      expect(failed.map((input) => input.hook_event_name)).toEqual(["StopFailure"]);
      expect(failed[0]).toMatchObject({ session_id: cli.sessionId, transcript_path: cli.transcriptPath });
      expect(failed[0]?.last_assistant_message).toMatch(/400 scripted refusal/);
      await cli.type("/exit");
      const inputs = await cli.explain(logged("SessionEnd"));
      expect(inputs.map((input) => input.hook_event_name)).toEqual(["StopFailure", "SessionEnd"]);
      // However often the CLI retried, every request asked for the one refused turn.
      expect(new Set(peer.mainRequests().map((request) => request.turn))).toEqual(new Set([0]));
    } finally {
      await cli.stop();
      await peer.close();
      await home.cleanup();
    }
  }, 90_000);
});
