import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { LogShipper } from "@thopter/agent/log-shipper/index";
import { startCollector, TokenStore } from "@thopter/hub/collector/index";
import { LogArchive } from "@thopter/hub/logs/archive";
import { Registry } from "@thopter/hub/registry/index";
import { openStore } from "@thopter/hub/store/index";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { poll } from "../../helpers/poll.js";
import { tempDir } from "../../helpers/tmp.js";
import { whileAgentSwapsLink } from "./transcripts.js";

// Boot (root) streams the boot log and the agent's transcripts to a real collector. The agent (the real `thopter`
// user) plants links, FIFOs, devices and hard links among its transcripts, writes a giant line, and swaps a transcript
// for a link to root's file in a loop: root's file must never reach the hub, and the agent's own lines all must.

const THOPTER = "t-shipper";
const CANARY = `root-only-canary-${process.pid}`;
const isRoot = process.getuid?.() === 0;
const log = pino({ level: "silent" });
const id = (flag: string) => Number(execFileSync("id", [flag, "thopter"], { encoding: "utf8" }).trim());

function asAgent(script: string): void {
  execFileSync("runuser", ["-u", "thopter", "--", "sh", "-c", script], { stdio: "pipe" });
}

/** Waits until `check` holds (a file not there yet counts as not). */
const until = (check: () => boolean, ms: number, what: string) =>
  poll(
    () => {
      try {
        return check() || undefined;
      } catch {
        return undefined;
      }
    },
    ms,
    () => what,
  );

const userLine = (text: string) =>
  JSON.stringify({ type: "user", timestamp: new Date().toISOString(), message: { role: "user", content: text } });

describe.skipIf(!isRoot)("log shipping from a thopter whose agent plants files", () => {
  let base: string;
  let home: string;
  let dir: string;
  let canary: string;
  let archive: LogArchive;
  let shipper: LogShipper;
  let options: ConstructorParameters<typeof LogShipper>[0];
  let close: () => Promise<void>;

  /** Everything the hub holds of the thopter's transcripts, by archive file name. */
  const archived = () => {
    const folder = archive.sessionsFolder(THOPTER);
    if (!existsSync(folder)) return {};
    return Object.fromEntries(readdirSync(folder).map((name) => [name, readFileSync(join(folder, name), "utf8")]));
  };

  beforeAll(async () => {
    base = tempDir("thopter-shipper-");
    chmodSync(base, 0o755);
    canary = join(base, "canary.jsonl");
    writeFileSync(canary, `${userLine(CANARY)}\n`, { mode: 0o600 });
    mkdirSync(join(base, "log"));
    writeFileSync(join(base, "log", "boot.log"), `${JSON.stringify({ level: 30, msg: "job: done" })}\n`);
    home = join(base, "home");
    mkdirSync(home, { mode: 0o755 });
    chownSync(home, id("-u"), id("-g"));
    dir = join(home, ".claude", "projects", "-workspace-repo");
    asAgent(`mkdir -p '${dir}' && printf '%s\\n' '${userLine("legit-1")}' > '${dir}/legit.jsonl'`);

    const state = join(base, "state");
    const store = await openStore(`file:${state}`);
    const registry = await Registry.open(store, log);
    const tokens = await TokenStore.open(store);
    archive = new LogArchive({ dir: join(state, ".logs"), maxBytes: 64 * 1024 * 1024, retentionDays: 2 });
    const collector = await startCollector({ registry, tokens, log, archive, host: "127.0.0.1", port: 0 });
    await registry.create({
      id: THOPTER,
      requestId: "r1",
      repo: "acme/widgets",
      issueNumber: 3,
      issueTitle: "t",
      branch: `thopter/3--${THOPTER}`,
      gc: "default",
      prompt: "default",
      state: "working",
      machine: { provider: "local", id: "m1" },
    });
    const { broker } = await tokens.mint(THOPTER);
    options = {
      collectorUrl: collector.url,
      token: () => broker,
      bootLog: join(base, "log", "boot.log"),
      sessions: { dir, rules: { owner: id("-u"), within: home } },
      log,
      intervalMs: 200,
    };
    shipper = new LogShipper(options);
    shipper.start();
    close = async () => {
      await shipper.stop();
      await collector.close();
      await registry.close();
      await store.close();
    };
  });
  afterAll(async () => {
    await close?.();
  });

  it("sends the boot log and the agent's transcript as they grow, and nothing through links, FIFOs, devices or hard links", async () => {
    asAgent(
      [
        `cd '${dir}'`,
        `ln -s '${canary}' link.jsonl`,
        "mkfifo fifo.jsonl",
        "ln -s /dev/zero zero.jsonl",
        `ln -s '${base}' linked-folder`,
      ].join(" && "),
    );
    try {
      asAgent(`ln '${canary}' '${dir}/hard.jsonl'`);
    } catch {
      linkSync(canary, join(dir, "hard.jsonl")); // a host with fs.protected_hardlinks=0 would let the agent
    }
    await until(() => readFileSync(archive.bootLog(THOPTER), "utf8").includes("job: done"), 10_000, "the boot log");
    // Lines written later, past the FIFO: the shipper did not hang on it.
    asAgent(`printf '%s\\n' '${userLine("legit-2")}' >> '${dir}/legit.jsonl'`);
    await until(() => archived()["legit.jsonl"]?.includes("legit-2") ?? false, 10_000, "the second line");
    expect(Object.keys(archived())).toEqual(["legit.jsonl"]);
    expect(archived()["legit.jsonl"]).toBe(readFileSync(join(dir, "legit.jsonl"), "utf8"));
    expect(JSON.stringify(archived())).not.toContain(CANARY);
  }, 30_000);

  it("sends a giant line (5 MB, one newline) whole, in chunks", async () => {
    const giant = join(dir, "giant.jsonl");
    asAgent(
      `printf '%s\\n' '${userLine("before")}' > '${giant}' && head -c 5000000 /dev/zero | tr '\\0' x >> '${giant}' && echo >> '${giant}'`,
    );
    const written = readFileSync(giant, "utf8");
    await until(() => archived()["giant.jsonl"]?.length === written.length, 30_000, "the giant line");
    expect(archived()["giant.jsonl"]).toBe(written);
  }, 40_000);

  it("never archives root's file while the agent swaps its transcript for a link to it in a loop", async () => {
    await whileAgentSwapsLink(dir, canary, userLine("flip"), () => new Promise((r) => setTimeout(r, 4_000)));
    expect(JSON.stringify(archived())).not.toContain(CANARY);
    expect(archived()["legit.jsonl"]).toContain("legit-2");
  }, 30_000);

  it("sends nothing twice after a restart of boot: it resumes where the hub's copy ends, and sends an unfinished line last", async () => {
    const before = archived();
    const restarted = new LogShipper(options);
    await restarted.pass(false);
    await restarted.pass(false);
    expect(archived()).toEqual(before);
    asAgent(`printf '%s' '${userLine("unfinished")}' >> '${dir}/legit.jsonl'`);
    await restarted.pass(false);
    expect(archived()["legit.jsonl"]).not.toContain("unfinished");
    await shipper.stop();
    await restarted.stop();
    expect(archived()["legit.jsonl"]).toBe(readFileSync(join(dir, "legit.jsonl"), "utf8"));
  }, 30_000);
});
