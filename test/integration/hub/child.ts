import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { guardTableName } from "@thopter/hub/access/port-guard";
import { afterEach, beforeEach, expect } from "vitest";
import { assertNoProcessesMentioning, assertNoUsersUnder, destroyLocalMachines } from "../../helpers/leftovers.js";
import { type GithubPeer, startGithubPeer } from "../../peers/github/index.js";
import { Gate } from "./gate.js";
import { BOT, CODER_TOKEN, hubEnv, ISSUES_TOKEN, REPO } from "./harness.js";

const MAIN = resolve(import.meta.dirname, "../../../hub/src/main.ts");
const TSX = fileURLToPath(import.meta.resolve("tsx"));
const run = promisify(execFile);

export interface Child {
  process: ChildProcess;
  url: Promise<string>;
  /** The dashboard token, from the login URL the hub prints at start. */
  token: Promise<string>;
  output: () => string;
  exited: Promise<number | null>;
}

/** `pnpm start`'s command line, as a child process in `cwd` (no .env there), with only the given environment. */
export function startHubProcess(cwd: string, env: Record<string, string>): Child {
  const child = spawn(process.execPath, ["--conditions=thopter-source", "--import", TSX, MAIN], {
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
  const token = url.then(() => {
    const printed = /^Dashboard: open (http:\S+) to log in/m.exec(out);
    if (!printed) throw new Error(`the hub printed no login URL:\n${out}`);
    return new URL(printed[1]!).searchParams.get("token")!;
  });
  token.catch(() => {});
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { process: child, url, token, output: () => out, exited };
}

/** Per test: a peer with one repository and issue, a Gate in front of it, a state folder, and hub processes. */
export interface ChildHubs {
  peer: GithubPeer;
  gate: Gate;
  dir: string;
  issue: number;
  /** Starts `pnpm start` as a child against the gate (polling every 200 ms); killed after the test if still running. */
  hub(extra?: Record<string, string>): Child;
}

export function useChildHubs(): ChildHubs {
  const children: Child[] = [];
  const ctx = {
    hub(extra: Record<string, string> = {}) {
      const child = startHubProcess(
        ctx.dir,
        hubEnv(ctx.gate.url, ctx.dir, { POLL_INTERVAL_MS: "200", THOPTER_ENTRYPOINT: "/bin/true", ...extra }),
      );
      children.push(child);
      return child;
    },
  } as ChildHubs;
  beforeEach(async () => {
    ctx.peer = await startGithubPeer();
    await ctx.peer.addRepo(REPO, { issuesToken: ISSUES_TOKEN, coderToken: CODER_TOKEN, bot: { login: BOT } });
    ctx.issue = Number(ctx.peer.createIssue(REPO, { title: "Crashy", author: "alice", association: "OWNER" }).number);
    ctx.gate = await Gate.start(ctx.peer.url);
    ctx.dir = await mkdtemp(join(tmpdir(), "hub-process-"));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill("SIGKILL");
      await c.exited;
      // A hub killed hard cannot remove its dashboard port guard; a clean stop does (tests check that).
      const port = await c.url.then((url) => new URL(url).port).catch(() => undefined);
      if (port) await removeGuardTable(Number(port));
    }
    await ctx.gate.close();
    await ctx.peer.close();
    // The hubs stopped; their machines (and, as root, their users) are this test's to remove.
    await destroyLocalMachines(join(ctx.dir, "machines"));
    await rm(ctx.dir, { recursive: true, force: true });
    await assertNoProcessesMentioning(ctx.dir);
    assertNoUsersUnder(ctx.dir);
    ctx.peer.assertClean();
  });
  return ctx;
}

/** The hub's nftables table for its dashboard port is there (as root with the local provider, while it runs). */
export function guardTableExists(port: number): Promise<boolean> {
  return run("nft", ["list", "table", "inet", guardTableName(port)]).then(
    () => true,
    () => false,
  );
}

async function removeGuardTable(port: number): Promise<void> {
  if (await guardTableExists(port)) await run("nft", ["delete", "table", "inet", guardTableName(port)]);
}

export async function killHard(child: Child): Promise<void> {
  child.process.kill("SIGKILL");
  expect(await child.exited).toBeNull();
}
