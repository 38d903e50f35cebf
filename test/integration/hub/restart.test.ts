import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GithubPeer, startGithubPeer } from "../../peers/github/index.js";
import { Gate } from "./gate.js";
import { BOT, CODER_TOKEN, eyes, hubEnv, ISSUES_TOKEN, REPO, replies, requests, until } from "./harness.js";

const MAIN = resolve(import.meta.dirname, "../../../hub/src/main.ts");
const TSX = fileURLToPath(import.meta.resolve("tsx"));

interface Child {
  process: ChildProcess;
  url: Promise<string>;
  output: () => string;
  exited: Promise<number | null>;
}

/** `pnpm start`'s command line, as a child process in `cwd` (no .env there), with only the given environment. */
function startHubProcess(cwd: string, env: Record<string, string>): Child {
  const child = spawn(process.execPath, ["--conditions=source", "--import", TSX, MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const url = new Promise<string>((resolveUrl, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const started = /"url":"(http:[^"]+)"[^\n]*"msg":"hub started"/.exec(out);
      if (started) resolveUrl(started[1]!);
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on("exit", (code) => reject(new Error(`hub exited (${code}) before it started:\n${out}`)));
  });
  url.catch(() => {});
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { process: child, url, output: () => out, exited };
}

let peer: GithubPeer;
let gate: Gate;
let dir: string;
let issue: number;
const children: Child[] = [];

beforeEach(async () => {
  peer = await startGithubPeer();
  await peer.addRepo(REPO, { issuesToken: ISSUES_TOKEN, coderToken: CODER_TOKEN, bot: { login: BOT } });
  issue = Number(peer.createIssue(REPO, { title: "Crashy", author: "alice", association: "OWNER" }).number);
  gate = await Gate.start(peer.url);
  dir = await mkdtemp(join(tmpdir(), "hub-restart-"));
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill("SIGKILL");
    await c.exited;
  }
  await gate.close();
  await peer.close();
  await rm(dir, { recursive: true, force: true });
  peer.assertClean();
});

function hub(): Child {
  const child = startHubProcess(dir, hubEnv(gate.url, dir, { POLL_INTERVAL_MS: "200" }));
  children.push(child);
  return child;
}

async function killHard(child: Child): Promise<void> {
  child.process.kill("SIGKILL");
  expect(await child.exited).toBeNull();
}

describe("hub process: kill -9, SIGTERM, bad configuration", () => {
  it.each(["request", "response"] as const)(
    "loses nothing and duplicates nothing when killed between 'request stored' and 'reaction posted' (%s frozen)",
    async (hold) => {
      gate.freeze("POST", /\/reactions$/, hold);
      const first = hub();
      const firstUrl = await first.url;
      const id = Number(
        peer.addComment(REPO, issue, { body: "/thopter -p plan", author: "alice", association: "OWNER" }).id,
      );
      await until(() => gate.held === 1, 20_000, "the 👀 call to reach GitHub");
      expect(await requests(firstUrl)).toMatchObject([{ source: { commentId: id }, acknowledged: false }]);
      expect(eyes(peer, { comment: id })).toBe(hold === "response" ? 1 : 0);
      await killHard(first);
      gate.open();

      const second = hub();
      const secondUrl = await second.url;
      await until(async () => (await requests(secondUrl))[0]?.acknowledged, 20_000, "the 👀 after restart");
      // A few more cycles over the same comment change nothing.
      await new Promise((r) => setTimeout(r, 1000));
      const stored = await requests(secondUrl);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ source: { commentId: id }, command: { prompt: "plan" }, state: "queued" });
      expect(eyes(peer, { comment: id })).toBe(1);

      // And a clean stop: SIGTERM → exit 0.
      second.process.kill("SIGTERM");
      expect(await second.exited).toBe(0);
      expect(second.output()).toContain('"msg":"hub stopped"');
      for (const c of [first, second]) {
        expect(c.output()).not.toContain(ISSUES_TOKEN);
        expect(c.output()).not.toContain(CODER_TOKEN);
      }
    },
  );

  it.each(["request", "response"] as const)(
    "posts a refusal exactly once when killed while posting it (%s frozen)",
    async (hold) => {
      gate.freeze("POST", /\/issues\/\d+\/comments$/, hold);
      const first = hub();
      await first.url;
      peer.addComment(REPO, issue, { body: "/thopter", author: "mallory", association: "NONE" });
      await until(() => gate.held === 1, 20_000, "the reply to reach GitHub");
      await killHard(first);
      gate.open();

      const second = hub();
      await second.url;
      await until(() => replies(peer, issue).length === 1, 20_000, "the reply after restart");
      await new Promise((r) => setTimeout(r, 1000));
      expect(replies(peer, issue)).toHaveLength(1);
      expect(replies(peer, issue)[0]).toContain("@mallory");
    },
  );

  it("refuses a malformed GITHUB_INTEGRATION_JSON with one line naming it, and exits 1", async () => {
    const child = startHubProcess(dir, {
      ...hubEnv(peer.url, dir),
      GITHUB_INTEGRATION_JSON: `{"repositories":{"acme/widgets":{"issuesToken":"${ISSUES_TOKEN}"`,
    });
    children.push(child);
    expect(await child.exited).toBe(1);
    const lines = child.output().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^GITHUB_INTEGRATION_JSON: .*not valid JSON/);
    expect(child.output()).not.toContain(ISSUES_TOKEN);
  });
});
