import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { nodeCommand } from "@thopter/agent/boot/node-command";
import { startCollector, TokenStore } from "@thopter/hub/collector/index";
import { Registry } from "@thopter/hub/registry/index";
import { openStore } from "@thopter/hub/store/index";
import type { Store } from "@thopter/hub/store/store";
import type { StoredFollowUp } from "@thopter/protocol";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRoot } from "../../helpers/claude.js";
import { assertNoProcessesMentioning } from "../../helpers/leftovers.js";
import { AGENT_USER } from "../../setup/global.js";
import { until } from "../hub/harness.js";

const OBSERVER = resolve(import.meta.dirname, "../../../thopter-agent/src/observer/main.ts");
const ID = "lf5obs";
const SESSION = "lf5-follow-ups";
const log = pino({ level: "silent" });
const asAgent = (...command: string[]) => ["runuser", "-u", AGENT_USER, "--", ...command];

/**
 * The hub's collector (real registry on a file store) and, as the agent user, the observer process and a tmux
 * session standing in for Claude's prompt: `cat` in a cooked terminal, so each Enter ends one line of `typed.txt`,
 * an ESC would land in it as a byte, and a Ctrl-C would kill it (and with it the session).
 */
describe.skipIf(!isRoot)("follow-ups reach Claude's session through the observer (as the agent user)", () => {
  let dir: string;
  let store: Store;
  let hub: { registry: Registry; close(): Promise<void> };
  let statusToken: string;
  let observer: ChildProcess | undefined;
  const socket = () => join(dir, "tmux.sock");
  const typed = () => (existsSync(join(dir, "typed.txt")) ? readFileSync(join(dir, "typed.txt"), "utf8") : "");
  const lines = () => typed().split("\n").filter(Boolean);

  async function startHub(): Promise<void> {
    const registry = await Registry.open(store, log, { checkpointMs: 60_000 });
    const tokens = await TokenStore.open(store);
    if (!registry.get(ID)) {
      await registry.create({
        id: ID,
        requestId: "r1",
        repo: "acme/widgets",
        issueNumber: 4,
        issueTitle: "t",
        branch: `thopter/4--${ID}`,
        gc: "default",
        prompt: "review",
        state: "working",
        machine: { provider: "local", id: `m-${ID}` },
      });
      await registry.update(ID, { state: "done" });
      statusToken = (await tokens.mint(ID)).status;
    }
    const collector = await startCollector({ registry, tokens, log, host: "127.0.0.1", port: 0 });
    writeFileSync(
      join(dir, "observer.json"),
      JSON.stringify({
        thopterId: ID,
        collectorUrl: collector.url,
        statusTokenFile: join(dir, "token"),
        stateDir: join(dir, "state"),
        tmuxSocket: socket(),
        session: SESSION,
        heartbeatMs: 300,
        fallbackAfterMs: 3_600_000,
      }),
    );
    hub = {
      registry,
      close: async () => {
        await collector.close();
        await registry.close();
      },
    };
  }

  function startObserver(): void {
    const env = ["PATH=/usr/local/bin:/usr/bin:/bin", `HOME=${dir}`];
    const command = [...nodeCommand(`file://${OBSERVER}`), join(dir, "observer.json")];
    const [cmd, ...args] = asAgent("env", "-i", ...env, ...command);
    observer = spawn(cmd!, args, { detached: true, stdio: "ignore" });
  }

  async function stopObserver(): Promise<void> {
    if (!observer || observer.exitCode !== null) return;
    const exited = new Promise((done) => observer!.once("exit", done));
    process.kill(-observer.pid!, "SIGTERM");
    await exited;
  }

  async function addFollowUp(id: string, text: string): Promise<void> {
    const record = hub.registry.get(ID)!;
    const followUp: StoredFollowUp = { id, text, pullNumber: 9, requestedAt: new Date().toISOString() };
    await hub.registry.update(ID, { patch: { followUps: [...(record.followUps ?? []), followUp] }, durable: true });
  }

  const deliveredAt = (id: string) => hub.registry.get(ID)?.followUps?.find((f) => f.id === id)?.deliveredAt;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "lf5-follow-ups-"));
    execFileSync("mkdir", [join(dir, "state")]);
    store = await openStore(`file:${join(dir, "store")}`);
    await startHub();
    writeFileSync(join(dir, "token"), `${statusToken}\n`, { mode: 0o600 });
    execFileSync("chown", ["-R", `${AGENT_USER}:${AGENT_USER}`, dir]);
    const [cmd, ...args] = asAgent(
      "tmux",
      "-S",
      socket(),
      "new-session",
      "-d",
      "-s",
      SESSION,
      "-c",
      dir,
      "cat > typed.txt",
    );
    execFileSync(cmd!, args);
  });

  afterAll(async () => {
    await stopObserver();
    try {
      const [cmd, ...args] = asAgent("tmux", "-S", socket(), "kill-server");
      execFileSync(cmd!, args, { stdio: "ignore" });
    } catch {
      // the session is gone already (the test failed on it)
    }
    await hub?.close();
    await store?.close();
    await assertNoProcessesMentioning(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it("types each follow-up once as plain text, across observer and hub restarts, and confirms it to the hub", async () => {
    // What a hostile comment would try: clear the screen, interrupt Claude, submit early, then run a command.
    await addFollowUp("f1", "please rename x\u001b[2J\u0003\r\n/exit\u0004\u007f\u009b1m ; kill-server ;");
    startObserver();
    await until(() => deliveredAt("f1") !== undefined, 30_000, "f1 confirmed to the hub");
    await until(() => lines().length === 1, 10_000, "f1 typed");
    // One line, every control character gone: nothing acted as a key but Enter, which the observer pressed itself.
    // (A trailing `;` gets a space: tmux would read it as a command separator.)
    expect(lines()).toEqual(["please rename x [2J /exit 1m ; kill-server ; "]);
    expect(typed()).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    // `cat` survived the Ctrl-C and tmux the `; kill-server`: the session is still there.
    const [cmd, ...args] = asAgent("tmux", "-S", socket(), "list-sessions", "-F", "#{session_name}");
    expect(execFileSync(cmd!, args, { encoding: "utf8" }).trim()).toBe(SESSION);

    // Observer and hub restart; f2 arrives: typed once, f1 never again, however many heartbeats pass.
    await stopObserver();
    await hub.close();
    await startHub();
    await addFollowUp("f2", "-t other and also this");
    startObserver();
    await until(() => deliveredAt("f2") !== undefined, 30_000, "f2 confirmed to the hub");
    await until(() => lines().length === 2, 10_000, "f2 typed");
    expect(lines()[1]).toBe("-t other and also this");

    // While Claude shows a permission dialog, the Enter would answer it: nothing is typed until the dialog is gone.
    await stopObserver();
    const lastState = (reason: string, state: string) => {
      const report = { state, reason, event: "Notification", at: new Date().toISOString() };
      writeFileSync(join(dir, "state", "last.json"), JSON.stringify({ report, reportedAt: Date.now(), hookAt: 1 }));
      execFileSync("chown", [`${AGENT_USER}:${AGENT_USER}`, join(dir, "state", "last.json")]);
    };
    lastState("permission", "waiting");
    await addFollowUp("f2b", "after the dialog");
    startObserver();
    await new Promise((done) => setTimeout(done, 2_000));
    expect(lines()).toHaveLength(2);
    expect(deliveredAt("f2b")).toBeUndefined();
    lastState("idle", "waiting");
    await until(() => deliveredAt("f2b") !== undefined, 30_000, "f2b confirmed once the dialog is gone");
    expect(lines()[2]).toBe("after the dialog");

    // The observer died after typing f3 but before the hub heard: the next one names it and never types it again.
    await stopObserver();
    await addFollowUp("f3", "typed before the crash");
    writeFileSync(join(dir, "state", "delivered.json"), JSON.stringify(["f3"]));
    execFileSync("chown", [`${AGENT_USER}:${AGENT_USER}`, join(dir, "state", "delivered.json")]);
    startObserver();
    await until(() => deliveredAt("f3") !== undefined, 30_000, "f3 confirmed to the hub");
    await new Promise((done) => setTimeout(done, 1_500));
    expect(lines()).toHaveLength(3);
    // Confirmed ids are forgotten once the hub stops offering them.
    await until(
      () => readFileSync(join(dir, "state", "delivered.json"), "utf8") === "[]",
      10_000,
      "delivered.json emptied",
    );
  }, 120_000);
});
