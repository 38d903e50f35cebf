import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configSecrets, type HubConfig, loadConfig } from "@thopter/hub/config";
import { type Hub, type HubDeps, startHub } from "@thopter/hub/hub";
import { createLogger } from "@thopter/hub/log";
import type { ThopterServices } from "@thopter/hub/scheduler/index";
import { THOPTER_PATHS } from "@thopter/hub/scheduler/index";
import type { ThopterRecord } from "@thopter/protocol";
import { afterEach, beforeEach } from "vitest";
import { assertNoProcessesMentioning } from "../../helpers/leftovers.js";
import { type GithubPeer, startGithubPeer } from "../../peers/github/index.js";
import { BOT, bearer, CODER_TOKEN, hubEnv, hubGet, ISSUES_TOKEN, REPO } from "../hub/harness.js";
import { SIM } from "../lifecycle/fixtures.js";

/** The whole hub (startHub, PROVIDER=local) against the GitHub peer, its thopters played by the lifecycle stand-in. */
export interface WholeHub {
  peer: GithubPeer;
  hub: Hub;
  /** The hub's thopter services (always there on a whole hub). */
  services: ThopterServices;
  config: HubConfig;
  issue: number;
  /** LOCAL_THOPTER_ROOT. */
  machines: string;
  /** `/thopter …` by the repository owner; returns the comment id. */
  command(body: string): number;
  thopters(): Promise<ThopterRecord[]>;
  /** POST to the hub's API, with a JSON content type and the dashboard token unless `headers` says otherwise. */
  post(path: string, headers?: Record<string, string>): Promise<Response>;
  /** Lines the hub printed at start (the login URL). */
  announced: string[];
  /** Starts a hub again on the same configuration and state (after `hub.stop()`). */
  restart(): Promise<void>;
}

/**
 * Per test: a fresh peer, state folder and hub; `extra` adds hub variables, `deps` replaces startHub's. Everything is
 * stopped afterwards.
 */
export function useWholeHub(extra: Record<string, string> = {}, deps: HubDeps = {}): WholeHub {
  const ctx = {} as WholeHub;
  let dir = "";
  beforeEach(async () => {
    ctx.peer = await startGithubPeer();
    await ctx.peer.addRepo(REPO, { issuesToken: ISSUES_TOKEN, coderToken: CODER_TOKEN, bot: { login: BOT } });
    ctx.issue = Number(ctx.peer.createIssue(REPO, { title: "Wobbly", author: "alice", association: "OWNER" }).number);
    dir = await mkdtemp(join(tmpdir(), "hub-lifecycle-"));
    ctx.machines = join(dir, "machines");
    ctx.config = loadConfig(
      hubEnv(ctx.peer.url, dir, {
        PROVIDER: "local",
        LOCAL_THOPTER_ROOT: ctx.machines,
        THOPTER_ENV_FILE: join(dir, "no-such.env"),
        LOG_LEVEL: "warn",
        ...extra,
      }),
    );
    const log = createLogger({
      level: (process.env.HUB_LIFECYCLE_LOG ?? "silent") as "silent",
      secrets: configSecrets(ctx.config),
    });
    ctx.announced = [];
    ctx.restart = async () => {
      ctx.hub = await startHub(ctx.config, {
        log,
        retryUnitMs: 20,
        entrypoint: [process.execPath, SIM],
        announce: (line) => ctx.announced.push(line),
        ...deps,
      });
      if (!ctx.hub.thopters) throw new Error("startHub started no thopter services");
      ctx.services = ctx.hub.thopters;
    };
    await ctx.restart();
  });
  afterEach(async () => {
    // Thopters outlive a hub on purpose (a restart adopts them); here each test removes its own.
    for (const t of ctx.services.registry.list()) {
      if (t.state !== "gone") await stopQuietly(ctx, t.id);
    }
    await ctx.hub.stop();
    await ctx.peer.close();
    await rm(dir, { recursive: true, force: true });
    await assertNoProcessesMentioning(dir);
    ctx.peer.assertClean();
  });
  ctx.command = (body) =>
    Number(ctx.peer.addComment(REPO, ctx.issue, { body, author: "alice", association: "OWNER" }).id);
  ctx.thopters = async () =>
    ((await (await hubGet(ctx.hub, "/api/thopters")).json()) as { thopters: ThopterRecord[] }).thopters;
  ctx.post = (path, headers = { "content-type": "application/json", ...bearer(ctx.hub) }) =>
    fetch(`${ctx.hub.url}${path}`, { method: "POST", headers, body: headers["content-type"] ? "{}" : undefined });
  return ctx;
}

async function stopQuietly(ctx: WholeHub, id: string): Promise<void> {
  await ctx.post(`/api/thopters/${id}/stop`);
}

/** A file the provider delivered to a local thopter, read from its machine directory. */
export function deliveredFile(machines: string, thopterId: string, path: string): Promise<string> {
  return readFile(join(machines, thopterId, "root", path), "utf8");
}

/** The thopter's broker-role collector token, as its push broker would read it. */
export async function reportToken(machines: string, thopterId: string): Promise<string> {
  return (await deliveredFile(machines, thopterId, THOPTER_PATHS.reportToken)).trim();
}

/** The pid of a local machine's entrypoint, from its machine.json. */
export async function machinePid(machines: string, thopterId: string): Promise<number> {
  const record = JSON.parse(await readFile(join(machines, thopterId, "machine.json"), "utf8")) as {
    process?: { pid: number };
  };
  if (!record.process) throw new Error(`machine ${thopterId} has no process`);
  return record.process.pid;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
