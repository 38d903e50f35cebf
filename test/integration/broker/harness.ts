import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { type Broker, type BrokerConfigInput, loadConfig, startBroker } from "@thopter/broker-mcp";
import { GithubApp, THOPTER_PERMISSIONS } from "@thopter/hub/github/app";
import pino from "pino";
import { assertNoProcessesMentioning } from "../../helpers/leftovers.js";
import { type GithubPeer, startGithubPeer } from "../../peers/github/index.js";
import { AGENT_USER } from "../../setup/global.js";
import { type AgentUser, agentUser, asAgent } from "./agent.js";
import { type Receiver, startReceiver } from "./collector.js";
import { Client, StreamableHTTPClientTransport } from "./mcp-client.js";

export const isRoot = process.getuid?.() === 0;
export const REPO = "acme/app";
const REPO_ROOT = resolve(import.meta.dirname, "../../..");

/** A realistic classic-PAT shape, so the well-known-pattern checks see what they would see in production. */
export const fakeGithubToken = () => `ghp_${randomBytes(18).toString("hex")}`;

/**
 * Budgets of the broker's GitHub calls in tests: the production comment budget (tests count on it), and room for
 * the many pushes and reads a suite makes in one world; tool-limits.test.ts sets small ones to attack them.
 */
const TEST_RATES = {
  comments: { max: 5, windowMs: 600_000 },
  pushes: { max: 1_000, windowMs: 600_000 },
  pullRequests: { max: 1_000, windowMs: 600_000 },
  issueReads: { max: 1_000, windowMs: 600_000 },
  originFetches: { max: 1_000, windowMs: 600_000 },
  pullReads: { max: 1_000, windowMs: 600_000 },
};

export interface WorldOptions {
  /** Run the broker as its own process through `main.ts` (as the thopter entrypoint does) instead of in-process. */
  process?: boolean;
  limits?: BrokerConfigInput["limits"];
  /** Keep the state directory (outbox) of an earlier world: a broker restart. */
  stateDir?: string;
  /**
   * The coder token is a GitHub App installation token living `lifetimeMs` (minted by the hub's GithubApp), and the
   * receiver renews it as the hub's collector does; the broker renews on the given schedule (in-process only).
   */
  app?: { lifetimeMs: number; renewBeforeMs: number; firstRenewalMs: number };
  /** The thopter's other secrets (model credential, marked `.env.thopters` values), in the root-only `secretsFile`. */
  heldSecrets?: string[];
}

export interface World {
  peer: GithubPeer;
  receiver: Receiver;
  issueNumber: number;
  workBranch: string;
  coderToken: string;
  /** The hub's token for the repository (what its notifier posts with). */
  issuesToken: string;
  reportToken: string;
  mcpKey: string;
  root: string;
  configPath: string;
  config: BrokerConfigInput & { stateDir: string };
  agent: AgentUser;
  agentHome: string;
  workspace: string;
  broker: { url: string; pid: number; output: () => string; stop: () => Promise<void> };
  client: InstanceType<typeof Client>;
  call(tool: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** git as the agent, in its workspace. */
  git(...args: string[]): Promise<string>;
  /** Writes files and commits them as the agent; returns the new HEAD. */
  commit(files: Record<string, string | Buffer>, message: string): Promise<string>;
  connect(key?: string): Promise<InstanceType<typeof Client>>;
  /** Stops the broker and starts it again on the same config and state (mirror, outbox). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export const text = (r: CallToolResult) => r.content.map((c) => (c.type === "text" ? c.text : "")).join("");

async function startProcess(configPath: string): Promise<World["broker"]> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--conditions=thopter-source", "--import", "tsx", "broker-mcp/src/main.ts", configPath],
    { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/root" }, stdio: "pipe" },
  );
  let output = "";
  const url = await new Promise<string>((resolveUrl, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const ready = /\{"ready":true,"url":"([^"]+)"\}/.exec(output);
      if (ready) resolveUrl(ready[1]!);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => reject(new Error(`broker exited ${code}: ${output}`)));
  });
  return {
    url,
    pid: child.pid!,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function startInProcess(configPath: string, coderToken?: WorldOptions["app"]): Promise<World["broker"]> {
  const lines: string[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => void lines.push(line) });
  const broker: Broker = await startBroker(loadConfig(configPath), { log, coderToken });
  return { url: broker.url, pid: process.pid, output: () => lines.join(""), stop: () => broker.close() };
}

/** A GitHub App installed on REPO, and the hub's way of minting a thopter's token for it. */
function appMinter(peer: GithubPeer, lifetimeMs: number) {
  const app = peer.apps.create("thopter-swarm", REPO.split("/")[0]!);
  peer.apps.install(app.appId, [REPO], THOPTER_PERMISSIONS);
  peer.apps.tokenLifetimeMs = lifetimeMs;
  const github = new GithubApp(
    { appId: String(app.appId), privateKey: app.privateKey },
    peer.url,
    pino({ level: "silent" }),
  );
  return () => github.token(REPO, THOPTER_PERMISSIONS, true);
}

/**
 * One thopter's world: a GitHub peer with the repository and an issue, a report receiver, the broker (root), its
 * mirror, and the agent's clone made from the mirror as `thopter`, and an MCP client speaking to the broker.
 */
export async function startWorld(opts: WorldOptions = {}): Promise<World> {
  const peer = await startGithubPeer();
  const issuesToken = fakeGithubToken();
  const patToken = fakeGithubToken();
  await peer.addRepo(REPO, { coderToken: patToken, issuesToken, bot: { login: "thopter-bot" } });
  const mint = opts.app && appMinter(peer, opts.app.lifetimeMs);
  const coderToken = mint ? (await mint()).token : patToken;
  const issue = peer.createIssue(REPO, { title: "Add a greeting", body: "Please add hello.txt", author: "alice" });
  const issueNumber = issue.number as number;
  const reportToken = randomBytes(24).toString("hex");
  const receiver = await startReceiver(reportToken, mint);
  const agent = agentUser();

  const root = mkdtempSync(join(tmpdir(), "broker-world-"));
  chmodSync(root, 0o755);
  const secrets = join(root, "secrets");
  mkdirSync(secrets, { mode: 0o700 });
  const agentDir = join(root, "agent");
  const agentHome = join(agentDir, "home");
  const workspace = join(agentDir, "work");
  mkdirSync(agentHome, { recursive: true });
  const mirror = join(root, "mirror.git");
  writeFileSync(
    join(agentHome, ".gitconfig"),
    `[user]\n\tname = Thopter Agent\n\temail = agent@example.invalid\n[safe]\n\tdirectory = ${mirror}\n[init]\n\tdefaultBranch = main\n`,
  );
  for (const dir of [agentDir, agentHome]) chownSync(dir, agent.uid, agent.gid);
  chownSync(join(agentHome, ".gitconfig"), agent.uid, agent.gid);

  const mcpKey = randomBytes(32).toString("hex");
  const workBranch = `thopter/${issueNumber}--t${randomBytes(3).toString("hex")}`;
  const config: World["config"] = {
    repo: REPO,
    issueNumber,
    workBranch,
    defaultBranch: "main",
    githubApiUrl: peer.url,
    collectorUrl: receiver.url,
    coderTokenFile: join(secrets, "coder-token"),
    reportTokenFile: join(secrets, "report-token"),
    ...(opts.heldSecrets ? { secretsFile: join(secrets, "thopter-secrets.json") } : {}),
    agentUser: AGENT_USER,
    workspace,
    mirror,
    stateDir: opts.stateDir ?? join(root, "state"),
    mcpKey,
    port: 0,
    agentMcpConfigPath: join(agentHome, "mcp.json"),
    limits: {
      maxPushBytes: 1024 * 1024 * 1024,
      maxFileBytes: 100 * 1024 * 1024,
      gitTimeoutMs: 120_000,
      ...opts.limits,
      rates: { ...TEST_RATES, ...opts.limits?.rates },
    },
    outbox: { minDelayMs: 50, maxDelayMs: 200 },
  };
  writeFileSync(config.coderTokenFile, `${coderToken}\n`, { mode: 0o600 });
  writeFileSync(config.reportTokenFile, reportToken, { mode: 0o600 });
  if (config.secretsFile) writeFileSync(config.secretsFile, JSON.stringify(opts.heldSecrets), { mode: 0o600 });
  const configPath = join(secrets, "broker.json");
  writeFileSync(configPath, JSON.stringify(config), { mode: 0o600 });

  const start = () => (opts.process ? startProcess(configPath) : startInProcess(configPath, opts.app));
  let broker = await start();
  await asAgent(agent, agentHome, "git", ["clone", "-q", mirror, workspace]);

  const clients: InstanceType<typeof Client>[] = [];
  const connect = async (key = mcpKey) => {
    const client = new Client({ name: "broker-test", version: "1.0.0" });
    const headers = { Authorization: `Bearer ${key}` };
    await client.connect(new StreamableHTTPClientTransport(new URL(broker.url), { requestInit: { headers } }));
    clients.push(client);
    return client;
  };
  const client = await connect();
  const git = (...args: string[]) => asAgent(agent, agentHome, "git", args, { cwd: workspace });
  const world: World = {
    peer,
    receiver,
    issueNumber,
    workBranch,
    coderToken,
    issuesToken,
    reportToken,
    mcpKey,
    root,
    configPath,
    config,
    agent,
    agentHome,
    workspace,
    broker,
    client,
    connect,
    git,
    call: (name, args = {}) =>
      world.client.callTool({ name, arguments: args }, undefined, { timeout: 300_000 }) as Promise<CallToolResult>,
    async commit(files, message) {
      for (const [path, content] of Object.entries(files)) {
        const full = join(workspace, path);
        await asAgent(agent, agentHome, "mkdir", ["-p", dirname(full)]);
        writeFileSync(full, content);
        chownSync(full, agent.uid, agent.gid);
      }
      await git("add", "-A");
      await git("commit", "-q", "-m", message);
      return (await git("rev-parse", "HEAD")).trim();
    },
    async restart() {
      await broker.stop();
      broker = await start();
      world.broker = broker;
      world.client = await connect();
    },
    /** Stops everything, then fails if the broker's GitHub traffic broke GitHub's OpenAPI description. */
    async close() {
      for (const c of clients) await c.close().catch(() => {});
      await broker.stop();
      await receiver.close();
      await peer.close();
      rmSync(root, { recursive: true, force: true });
      await assertNoProcessesMentioning(root); // the broker process and the git it ran
      peer.assertClean();
    },
  };
  return world;
}
