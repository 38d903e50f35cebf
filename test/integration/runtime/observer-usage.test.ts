import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { nodeCommand } from "@thopter/agent/boot/node-command";
import { addCounts, type ModelUsage, StatusReport, ZERO_COUNTS } from "@thopter/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { type ClaudeHome, isRoot, prepareClaudeHome, runClaudeHeadless } from "../../helpers/claude.js";
import { assertNoProcessesMentioning } from "../../helpers/leftovers.js";
import { bash, say, startModelPeer } from "../../peers/model/index.js";
import { AGENT_USER } from "../../setup/global.js";
import { until } from "../hub/harness.js";
import { fakeCollector } from "./fake-collector.js";

const OBSERVER = resolve(import.meta.dirname, "../../../thopter-agent/src/observer/main.ts");
const FIXTURE = resolve(
  import.meta.dirname,
  "../../fixtures/claude-transcripts/claude-code-transcript.real.tool_heavy.v2.1.38.jsonl",
);

/**
 * Totals as a reader of the transcript format would add them up: per message id, the usage of its last line
 * (written here independently of the observer's code).
 */
function expectedTotals(text: string): ModelUsage {
  const last = new Map<string, { model: string; usage: Record<string, number> }>();
  for (const line of text.split("\n").filter(Boolean)) {
    const entry = JSON.parse(line);
    if (entry.type === "assistant") last.set(entry.message.id, entry.message);
  }
  const totals: ModelUsage = {};
  for (const { model, usage } of last.values()) {
    totals[model] = addCounts(totals[model] ?? ZERO_COUNTS, {
      input: usage.input_tokens ?? 0,
      output: usage.output_tokens ?? 0,
      cacheRead: usage.cache_read_input_tokens ?? 0,
      cacheWrite: usage.cache_creation_input_tokens ?? 0,
    });
  }
  return totals;
}

const chown = (...paths: string[]) => execFileSync("chown", ["-R", `${AGENT_USER}:${AGENT_USER}`, ...paths]);

const running: Array<{ child: ChildProcess; home: ClaudeHome; close(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    if (r.child.exitCode === null) {
      process.kill(-r.child.pid!, "SIGTERM");
      await once(r.child, "exit");
    }
    await r.close();
    await assertNoProcessesMentioning(r.home.root);
    await r.home.cleanup();
  }
});

/** The real observer process, as the agent (`thopter`), counting the transcripts in `dir` and reporting to a stand-in. */
async function startObserver(home: ClaudeHome, dir: string) {
  const hub = await fakeCollector();
  const state = join(home.root, "status");
  mkdirSync(state);
  writeFileSync(join(home.root, "token"), "thopter-status.t1.secret\n");
  const config = {
    thopterId: "t1",
    collectorUrl: hub.url,
    statusTokenFile: join(home.root, "token"),
    stateDir: state,
    transcriptsDir: dir,
    tmuxSocket: join(home.root, "no-tmux"),
    heartbeatMs: 3_600_000,
    usageReportMs: 300,
    fallbackAfterMs: 3_600_000,
  };
  writeFileSync(join(home.root, "observer.json"), JSON.stringify(config));
  chown(state, join(home.root, "token"), join(home.root, "observer.json"));
  const env = [`HOME=${home.home}`, "PATH=/usr/local/bin:/usr/bin:/bin", `TMPDIR=${join(home.root, "tmp")}`];
  const command = [...nodeCommand(`file://${OBSERVER}`), join(home.root, "observer.json")];
  const child = spawn("runuser", ["-u", AGENT_USER, "--", "env", "-i", ...env, ...command], {
    detached: true,
    stdio: "ignore",
  });
  running.push({ child, home, close: hub.close });
  /** The usage of the latest report, once one carries it. */
  const latest = () => hub.received.findLast((r) => r.body.usage)?.body;
  return { hub, latest };
}

describe.skipIf(!isRoot)("the observer counts the model's usage from the transcripts (as the agent user)", () => {
  it("reports what the real CLI's transcript says the model served, each response once", async () => {
    const home = await prepareClaudeHome();
    const served = {
      input_tokens: 700,
      output_tokens: 90,
      cache_read_input_tokens: 3000,
      cache_creation_input_tokens: 400,
    };
    const peer = await startModelPeer({
      scenario: [{ text: "Two looks first.", toolCalls: [bash("echo a"), bash("echo b")] }, say("Done.")],
      usage: served,
    });
    try {
      const run = await runClaudeHeadless(home, peer.url, "Look twice");
      expect(run.code, run.stderr).toBe(0);
      const lines = readFileSync(run.transcriptPath, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      const ids = lines.filter((l) => l.type === "assistant").map((l) => l.message.id as string);
      // The premise: the pinned CLI writes one line per content block, each with the message's id and usage.
      expect(ids.length).toBeGreaterThan(new Set(ids).size);

      const { latest } = await startObserver(home, dirname(run.transcriptPath));
      const responses = peer.mainRequests().filter((r) => r.response).length;
      const model = peer.mainRequests()[0]!.response!.model;
      await until(() => latest(), 20_000, "a report with usage");
      expect(latest()!.usage).toEqual({
        [model]: {
          input: 700 * responses,
          output: 90 * responses,
          cacheRead: 3000 * responses,
          cacheWrite: 400 * responses,
        },
      });
    } finally {
      await peer.close();
    }
  }, 120_000);

  it("is not stalled or tricked by a FIFO, a link to /dev/zero, a sparse 2 GiB file or forged lines", async () => {
    const home = await prepareClaudeHome();
    const dir = join(home.home, ".claude", "projects", "-work");
    mkdirSync(join(dir, "sub"), { recursive: true });
    execFileSync("mkfifo", [join(dir, "fifo.jsonl")]);
    symlinkSync("/dev/zero", join(dir, "zero.jsonl"));
    execFileSync("truncate", ["-s", "2G", join(dir, "sparse.jsonl")]);
    // 60 made-up models (the report may name 50) and counts that are not token counts.
    const forged = Array.from({ length: 60 }, (_, i) =>
      JSON.stringify({
        type: "assistant",
        message: {
          id: `msg_forged_${i}`,
          model: `fake-${i}`,
          usage: {
            input_tokens: i % 2 ? -5 : 1.5,
            output_tokens: 1e300,
            cache_read_input_tokens: "9",
            cache_creation_input_tokens: 1,
          },
        },
      }),
    );
    writeFileSync(join(dir, "sub", "forged.jsonl"), `${forged.join("\n")}\n`);
    copyFileSync(FIXTURE, join(dir, "real.jsonl"));
    chown(home.home);
    const { latest } = await startObserver(home, dir);

    // The agent may write anything into its transcript (so a forged model can crowd a real one into the rest): what
    // it cannot do is make the report unacceptable, or count a message twice, or have a count that is not one.
    const [real] = Object.values(expectedTotals(readFileSync(FIXTURE, "utf8")));
    const sum = () => Object.values(latest()?.usage ?? {}).reduce(addCounts, ZERO_COUNTS);
    await until(() => sum().cacheWrite === real!.cacheWrite + 60, 30_000, "every file counted");
    const report = latest()!;
    expect(StatusReport.safeParse(report).success).toBe(true);
    expect(Object.keys(report.usage!)).toHaveLength(50);
    expect(report.usage!["(other models)"]).toBeDefined();
    expect(sum()).toEqual({ ...real, cacheWrite: real!.cacheWrite + 60 });

    // Still reading: a new answer written now is reported within seconds.
    const more = { type: "assistant", message: { id: "msg_new", model: "m", usage: { input_tokens: 1000 } } };
    appendFileSync(join(dir, "real.jsonl"), `${JSON.stringify(more)}\n`);
    await until(() => sum().input === real!.input + 1000, 15_000, "the new answer counted");
  }, 120_000);
});
