import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { configSecrets, type HubConfig, loadConfig } from "@thopter/hub/config";
import { type Hub, startHub } from "@thopter/hub/hub";
import { createLogger } from "@thopter/hub/log";
import type { ThopterRequest } from "@thopter/protocol";
import { afterEach, beforeEach } from "vitest";
import { type GithubPeer, type GithubPeerOptions, startGithubPeer } from "../../peers/github/index.js";

export const REPO = "acme/widgets";
export const BOT = "thopter-bot";
export const ISSUES_TOKEN = "ghp_issuesTokenForTests0123456789abcdefAB";
export const CODER_TOKEN = "ghp_coderTokenForTests0123456789abcdefABC";
export const WEBHOOK_SECRET = "webhook-secret-for-tests-5f2d";
export const PROMPTS_DIR = resolve(import.meta.dirname, "../../../prompts");

/**
 * The hub's environment against the GitHub API at `apiUrl` (the peer, or a proxy in front of it), with a file store
 * in `stateDir`; `extra` overrides or adds variables.
 */
export function hubEnv(apiUrl: string, stateDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    GITHUB_API_URL: apiUrl,
    GITHUB_INTEGRATION_JSON: JSON.stringify({
      repositories: { [REPO]: { issuesToken: ISSUES_TOKEN, coderToken: CODER_TOKEN } },
      agentUser: { name: "Thopter Bot", email: "bot@example.com" },
    }),
    // Tests drive cycles with pollNow(); the timer stays out of the way.
    POLL_INTERVAL_MS: "3600000",
    STORE_URL: `file:${join(stateDir, "state")}`,
    HUB_HOST: "127.0.0.1",
    HUB_PORT: "0",
    HUB_STATUS_PORT: "0",
    // A hub process provisions: its machines stay in the test's own folder.
    LOCAL_THOPTER_ROOT: join(stateDir, "machines"),
    THOPTER_ENV_FILE: join(stateDir, "no-such.env"),
    PROMPTS_DIR,
    GOLDEN_CLAUDES: "default,team",
    LOG_LEVEL: "debug",
    ...extra,
  };
}

export interface Setup {
  peer: GithubPeer;
  hub: Hub;
  config: HubConfig;
  /** Every line the hub logged. */
  logs: string[];
  issue: number;
  close(): Promise<void>;
}

/** A peer with one repository and one open issue, and a hub watching it (first poll cycle done). */
export async function setup(
  extra: Record<string, string> = {},
  peerOptions?: GithubPeerOptions,
  beforeStart?: (peer: GithubPeer) => void,
): Promise<Setup> {
  const peer = await startGithubPeer(peerOptions);
  await peer.addRepo(REPO, { issuesToken: ISSUES_TOKEN, coderToken: CODER_TOKEN, bot: { login: BOT } });
  const issue = Number(
    peer.createIssue(REPO, { title: "Widgets wobble", author: "alice", association: "OWNER" }).number,
  );
  beforeStart?.(peer);
  const dir = await mkdtemp(join(tmpdir(), "hub-test-"));
  const config = loadConfig(hubEnv(peer.url, dir, extra));
  const { log, logs } = recordingLogger(config);
  // Intake only: these tests are about the GitHub side; test/integration/hub-lifecycle runs the thopter services.
  // The login line at start is tested with a hub process (dashboard-token.test.ts).
  const hub = await startHub(config, { log, retryUnitMs: 20, thopters: false, announce: () => {} });
  return {
    peer,
    hub,
    config,
    logs,
    issue,
    async close() {
      await hub.stop();
      await peer.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Registers hooks that give each test of the file a fresh `setup(extra)` (then `prepare`), closed and checked against
 * GitHub's OpenAPI description afterwards. The returned object is filled in before each test.
 */
export function useHub(extra: Record<string, string> = {}, prepare?: (s: Setup) => void): Setup {
  const s = {} as Setup;
  beforeEach(async () => {
    Object.assign(s, await setup(extra));
    prepare?.(s);
  });
  afterEach(async () => {
    await s.close();
    s.peer.assertClean();
  });
  return s;
}

/** The hub's logger at debug level (secrets scrubbed as in production), keeping every line it writes for a test. */
export function recordingLogger(config: HubConfig): { log: ReturnType<typeof createLogger>; logs: string[] } {
  const logs: string[] = [];
  const log = createLogger({
    level: "debug",
    secrets: configSecrets(config),
    destination: { write: (line: string) => void logs.push(line) },
  });
  return { log, logs };
}

/** `Authorization: Bearer` with the hub's dashboard token, for its APIs. */
export function bearer(hub: Pick<Hub, "dashboardToken">): Record<string, string> {
  return { authorization: `Bearer ${hub.dashboardToken}` };
}

/** GET with the dashboard token (the hub's APIs and /metrics need it). */
export function hubGet(hub: Pick<Hub, "url" | "dashboardToken">, path: string): Promise<Response> {
  return fetch(`${hub.url}${path}`, { headers: bearer(hub) });
}

export async function requests(hub: Pick<Hub, "url" | "dashboardToken">): Promise<ThopterRequest[]> {
  const res = await hubGet(hub, "/api/requests");
  if (!res.ok) throw new Error(`GET /api/requests answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { requests: ThopterRequest[] }).requests;
}

/** 👀 reactions on a comment (or on the issue, for commands in an issue body). */
export function eyes(peer: GithubPeer, target: { issue: number } | { comment: number }): number {
  return peer.reactions(REPO, target).filter((r) => r.content === "eyes").length;
}

/** The hub's replies on an issue (comments by the bot). */
export function replies(peer: GithubPeer, issue: number): string[] {
  return peer
    .comments(REPO, issue)
    .filter((c) => (c.user as { login: string }).login === BOT)
    .map((c) => String(c.body));
}

/** Polls `check` until it returns a truthy value (or fails after `ms`). */
export async function until<T>(check: () => T | Promise<T>, ms = 20_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
