import { execFileSync } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { configSecrets, type HubConfig, loadConfig } from "@thopter/hub/config";
import { type Hub, startHub } from "@thopter/hub/hub";
import { createLogger } from "@thopter/hub/log";
import type { ThopterRecord } from "@thopter/protocol";
import { freePort } from "../helpers/ports.js";
import { type Association, type GithubPeer, startGithubPeer } from "../peers/github/index.js";
import type { PeerAddress } from "../peers/github/peer-options.js";
import {
  bash,
  callTools,
  editFile,
  loadTools,
  type ModelPeer,
  mcpTool,
  readFile as readTool,
  type Scenario,
  say,
  startModelPeer,
  type Usage,
} from "../peers/model/index.js";

export const REPO = "demo/calculator";
export const OWNER = "alice";
export const BOT = "thopter-bot";
export const AGENT_USER = "thopter";
export const BUGGY = "export function add(a, b) {\n  return a - b;\n}\n";
export const FIXED = BUGGY.replace("a - b", "a + b");
export const SUMMARY = "Fixed add(): it subtracted its second argument; `node --test` passes.";
const REPO_ROOT = resolve(import.meta.dirname, "../..");

/** A tiny Node project whose `add()` subtracts, with the test that catches it. */
const SAMPLE_FILES = {
  "README.md": "# calculator\n\n`add(a, b)` adds two numbers. Run the tests with `node --test`.\n",
  "package.json": `${JSON.stringify({ name: "calculator", type: "module", scripts: { test: "node --test" } }, null, 2)}\n`,
  "src/add.js": BUGGY,
  "test/add.test.js":
    'import assert from "node:assert/strict";\nimport { test } from "node:test";\nimport { add } from "../src/add.js";\n\n' +
    'test("add adds", () => {\n  assert.equal(add(2, 3), 5);\n});\n',
};

/**
 * What the scripted model does, as Claude would: load the thopter's MCP tools (deferred), read the issue and prompt,
 * read and fix src/add.js, run the test and commit, push, open the draft PR, report done. `beforePush` (tests) holds
 * Claude just before the push, e.g. to restart the hub while it works.
 */
export function fixScenario(beforePush?: () => Promise<void>): Scenario {
  let repoDir = "";
  return [
    callTools(loadTools("mcp__thopter__push_branch", "mcp__thopter__open_pull_request", "mcp__thopter__report_status")),
    callTools(bash("pwd && cat ../issue.md ../prompt.md", "Read the issue and the prompt")),
    ({ toolResults }) => {
      repoDir = (toolResults[0]?.text ?? "").split("\n")[0]!.trim();
      return callTools(readTool(join(repoDir, "src/add.js")));
    },
    () => callTools(editFile(join(repoDir, "src/add.js"), "return a - b;", "return a + b;")),
    callTools(bash("node --test && git commit -qam 'Fix add(): add, do not subtract' && git log --oneline -1")),
    async () => {
      await beforePush?.();
      return callTools(mcpTool("thopter", "push_branch", {}));
    },
    callTools(
      mcpTool("thopter", "open_pull_request", {
        title: "Fix add(): it subtracted",
        body: "`add(a, b)` returned `a - b`; it now returns `a + b`, and `node --test` passes.",
      }),
    ),
    callTools(mcpTool("thopter", "report_status", { state: "done", summary: SUMMARY })),
    say("Done: add() adds, the branch is pushed and a draft PR is open."),
  ];
}

/** What the demo's App is granted on its installation: what the hub and the broker ask for. */
const APP_PERMISSIONS = {
  contents: "write",
  pull_requests: "write",
  issues: "write",
  checks: "read",
  metadata: "read",
} as const;

export interface WorldOptions {
  /** The hub's HTTP port (default: one free a moment ago, so the dashboard links in comments are right). */
  hubPort?: number;
  /** Held before the push (see fixScenario). */
  beforePush?: () => Promise<void>;
  /** Hub log level ("silent" by default). */
  logLevel?: string;
  /** Extra hub variables (PROVIDER=fly, FLY_API_URL…). */
  hubEnv?: Record<string, string>;
  /** The repository is served through a GitHub App (no PATs in the hub's configuration). */
  githubApp?: boolean;
  /** Token counts every model response reports (default: estimates). */
  modelUsage?: Partial<Usage>;
  /** What the model does instead of `fixScenario` (a follow-up's turns, told apart by its prompt). */
  scenario?: Scenario;
  /** The hub's issues token also reads CI results (`Checks: read`), as a follow-up's completion comment wants. */
  issuesTokenReadsChecks?: boolean;
  /** Where the peers listen and the address they are reached at (thopters in containers cannot reach loopback). */
  peerAddress?: PeerAddress;
}

/** The demo's world: the GitHub peer with the sample repository and its issue, the model peer, and a whole hub. */
export interface World {
  peer: GithubPeer;
  model: ModelPeer;
  hub: Hub;
  config: HubConfig;
  issue: number;
  /** The temp folder holding the store, machines and .env.thopters. */
  dir: string;
  /** "full" as root (the agent is the `thopter` user), "off" otherwise. */
  isolation: "full" | "off";
  /** A comment on the issue, by the repository owner unless `author` says otherwise. */
  comment(body: string, author?: { login: string; association: Association }): number;
  /** The login the hub and thopters act as: the PAT bot user, or the App's `<slug>[bot]`. */
  bot: string;
  /** The bot's comments on the issue. */
  replies(): string[];
  thopters(): Promise<ThopterRecord[]>;
  /** A request to the hub's API with the dashboard token. */
  api(path: string, init?: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Response>;
  /** Stops the hub (machines keep running) and starts a new one on the same store: it adopts them. */
  restartHub(): Promise<void>;
  /** Stops every thopter, the hub and the peers, and removes the temp folder. */
  close(): Promise<void>;
}

/** Whether `name` is a user on this host. */
export function hasUser(name: string): boolean {
  try {
    execFileSync("id", ["-u", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const isolation = process.getuid?.() === 0 ? "full" : "off";
  const dir = await mkdtemp(join(tmpdir(), "thopter-demo-"));
  // Each thopter's own user must reach its machine under this folder.
  await chmod(dir, 0o755);
  const issuesToken = "ghp_demoIssuesToken0123456789abcdefABCDEF";
  const coderToken = "ghp_demoCoderToken0123456789abcdefABCDEFG";
  const peer = await startGithubPeer({ address: options.peerAddress });
  const model = await startModelPeer({
    scenario: options.scenario ?? fixScenario(options.beforePush),
    usage: options.modelUsage,
    address: options.peerAddress,
  });
  try {
    const readsChecks = options.issuesTokenReadsChecks;
    await peer.addRepo(REPO, {
      issuesToken,
      coderToken,
      bot: { login: BOT },
      files: SAMPLE_FILES,
      issuesTokenReadsChecks: readsChecks,
    });
    const issue = Number(
      peer.createIssue(REPO, {
        title: "add() subtracts instead of adding",
        body: "`add(2, 3)` returns -1; it should return 5. `node --test` shows the failure.",
        author: OWNER,
        association: "OWNER",
      }).number,
    );
    const envFile = join(dir, ".env.thopters");
    await writeFile(
      envFile,
      [
        `ANTHROPIC_BASE_URL=${model.url}`,
        // A stand-in key, as long as a real one must be (secrets under 8 characters are refused); the model peer takes any.
        "ANTHROPIC_API_KEY=sk-ant-demo-key-for-the-scripted-model",
        "DISABLE_TELEMETRY=1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
        "",
      ].join("\n"),
    );
    const app = options.githubApp ? peer.apps.create("thopter-swarm", OWNER) : undefined;
    if (app) peer.apps.install(app.appId, [REPO], APP_PERMISSIONS);
    const config = loadConfig({
      GITHUB_API_URL: peer.url,
      ...(app && { GITHUB_APP_ID: String(app.appId), GITHUB_APP_PRIVATE_KEY: app.privateKey }),
      GITHUB_INTEGRATION_JSON: JSON.stringify({
        repositories: { [REPO]: app ? {} : { issuesToken, coderToken } },
        agentUser: { name: "Thopter Bot", email: "bot@thopter.invalid" },
      }),
      POLL_INTERVAL_MS: "1000",
      PROVIDER: "local",
      STORE_URL: `file:${join(dir, "state")}`,
      HUB_HOST: "127.0.0.1",
      HUB_PORT: String(options.hubPort ?? (await freePort())),
      // Fixed for the world's life: thopters keep reporting to the same collector across a hub restart.
      HUB_STATUS_PORT: String(await freePort()),
      LOCAL_THOPTER_ROOT: join(dir, "machines"),
      THOPTER_ENV_FILE: envFile,
      PROMPTS_DIR: join(REPO_ROOT, "prompts"),
      LOG_LEVEL: "info",
      ...options.hubEnv,
    });
    const log = createLogger({
      level: (options.logLevel ?? "silent") as "silent",
      secrets: configSecrets(config),
    });
    // The demo prints the login URL itself (main.ts), with the rest of its introduction.
    const start = () => startHub(config, { log, announce: () => {} });
    const world: World = {
      peer,
      model,
      hub: await start(),
      config,
      issue,
      dir,
      isolation,
      comment: (body, author = { login: OWNER, association: "OWNER" }) =>
        Number(peer.addComment(REPO, issue, { body, author: author.login, association: author.association }).id),
      bot: app?.botLogin ?? BOT,
      replies: () =>
        peer
          .comments(REPO, issue)
          .filter((c) => (c.user as { login: string }).login === world.bot)
          .map((c) => String(c.body)),
      thopters: async () =>
        ((await (await world.api("/api/thopters")).json()) as { thopters: ThopterRecord[] }).thopters,
      api: (path, init = {}) =>
        fetch(world.hub.url + path, {
          ...init,
          headers: { ...init.headers, authorization: `Bearer ${world.hub.dashboardToken}` },
        }),
      async restartHub() {
        await world.hub.stop();
        world.hub = await start();
      },
      async close() {
        // Thopters outlive a hub on purpose; the demo's end removes its own.
        for (const t of world.hub.thopters?.registry.list() ?? []) {
          if (t.state !== "gone") {
            await world
              .api(`/api/thopters/${t.id}/stop`, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: "{}",
              })
              .catch(() => undefined);
          }
        }
        await world.hub.stop();
        await closePeers();
      },
    };
    return world;
  } catch (err) {
    await closePeers();
    throw err;
  }

  async function closePeers(): Promise<void> {
    await model.close();
    await peer.close();
    await rm(dir, { recursive: true, force: true });
  }
}
