import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { poll } from "../../helpers/poll.js";
import { say } from "../../peers/model/index.js";
import { bootTail, isRoot, startThopter, stateSequence, type Thopter } from "./harness.js";

const run = promisify(execFile);

describe.skipIf(!isRoot)("a thopter whose Claude asks a question (root only)", () => {
  let t: Thopter;
  beforeAll(async () => {
    t = await startThopter([
      say("Which greeting do you prefer: hello or hi?"),
      ({ userText }) => say(`Going with ${userText.trim()}.`),
    ]);
  }, 60_000);
  afterAll(() => t?.close());

  const lastObserved = () =>
    t
      .observerEntries()
      .filter((e) => e.kind !== "heartbeat")
      .at(-1);

  it("waits with reason question; an answer typed into tmux makes it working again", async () => {
    const question = await poll(
      () => (t.record().state === "waiting" ? t.record() : undefined),
      150_000,
      () => `waiting; observer: ${JSON.stringify(t.observerEntries())}\n${bootTail(t.layout)}`,
    );
    expect(question.stateReason).toBe("Stop (question)");
    expect(lastObserved()).toMatchObject({ kind: "Stop", state: "waiting" });
    expect(lastObserved()?.message).toMatch(/^Stop: question: Which greeting/);

    // A human attaches and answers, as with `tmux attach -t thopter`.
    await t.tmux("send-keys", "-t", "thopter", "-l", "hi");
    let screen = "";
    await poll(
      async () => {
        screen = await t.tmux("capture-pane", "-p", "-t", "thopter");
        return /❯\s*hi\s*$/m.test(screen) ? true : undefined;
      },
      15_000,
      () => `the answer in the prompt; screen:\n${screen}`,
    );
    await t.tmux("send-keys", "-t", "thopter", "Enter");
    await t.model.waitForTurn(1, 60_000);
    await poll(
      () => (lastObserved()?.kind === "Stop" && t.observerEntries().length > 4 ? true : undefined),
      60_000,
      () => `the second Stop; observer: ${JSON.stringify(t.observerEntries())}`,
    );
    const entries = t.observerEntries();
    expect(stateSequence(entries)).toEqual(["booting", "working", "waiting", "working", "waiting"]);
    const answered = entries.findIndex((e) => e.kind === "UserPromptSubmit" && entries.indexOf(e) > 3);
    expect(entries[answered]).toMatchObject({ state: "working" });
    expect(lastObserved()?.message).toMatch(/^Stop: idle: Going with hi\./);
    expect(t.record()).toMatchObject({ state: "waiting", stateReason: "Stop (idle)" });
    expect(t.model.problems).toEqual([]);
  }, 240_000);

  it("starts another observer when the observer dies", async () => {
    const observers = async () => {
      const { stdout } = await run("pgrep", ["-u", t.agentUser, "-f", `observer/main.* ${t.layout.home}`]).catch(
        () => ({
          stdout: "",
        }),
      );
      return stdout.split("\n").filter(Boolean).map(Number);
    };
    const [first] = await observers();
    expect(first).toBeGreaterThan(0);
    process.kill(first!, "SIGKILL");
    const next = await poll(
      async () => (await observers()).find((pid) => pid !== first),
      20_000,
      () => `a new observer; boot log:\n${bootTail(t.layout)}`,
    );
    expect(next).not.toBe(first);
    expect(await t.bootLog()).toMatch(/the observer exited: starting another in 5 s/);
  }, 60_000);
});
