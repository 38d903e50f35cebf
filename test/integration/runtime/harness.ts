import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { hostLayout, type LayoutPaths, tmuxSocket } from "@thopter/agent";
import { startCollector, TokenStore } from "@thopter/hub/collector/index";
import { LogArchive } from "@thopter/hub/logs/archive";
import { LocalProvider } from "@thopter/hub/providers/local/local-provider";
import { readRecord } from "@thopter/hub/providers/local/machine-record";
import { stopLocalMachine } from "@thopter/hub/providers/local/stop";
import { Registry } from "@thopter/hub/registry/index";
import { specBuilder, THOPTER_PATHS } from "@thopter/hub/scheduler/index";
import { openStore } from "@thopter/hub/store/index";
import {
  AGENT_USER_ENV,
  type ThopterRecord,
  type ThopterRequest,
  type ThopterSpec,
  type TimelineEntry,
  workBranch,
} from "@thopter/protocol";
import { pino } from "pino";
import { assertNoProcessesMentioning } from "../../helpers/leftovers.js";
import { poll } from "../../helpers/poll.js";
import { type GithubPeer, startGithubPeer } from "../../peers/github/index.js";
import { type ModelPeer, type Scenario, startModelPeer } from "../../peers/model/index.js";
import { AGENT_USER } from "../../setup/global.js";

const run = promisify(execFile);
export const isRoot = process.getuid?.() === 0;
export const REPO = "acme/app";
const REPO_ROOT = resolve(import.meta.dirname, "../../..");
export const ENTRYPOINT = join(REPO_ROOT, "thopter/entrypoint.sh");
export const README = "# app\n\nThe app says hello.\n";
const log = pino({ level: "silent" });

export interface Thopter {
  id: string;
  branch: string;
  issueNumber: number;
  coderToken: string;
  reportToken: string;
  /** The model credential in `.env.thopters`: the model proxy's alone. */
  modelKey: string;
  peer: GithubPeer;
  model: ModelPeer;
  registry: Registry;
  /** The agent's user: as root the thopter's own (the provider made it), otherwise this test's. */
  agentUser: string;
  /** The machine's root (THOPTER_FS_ROOT) and the runtime's paths under it. */
  fsRoot: string;
  layout: LayoutPaths;
  repoDir: string;
  /** The local machine's state as the provider sees it. */
  machineState(): Promise<string>;
  /** When the spec was handed to the provider (ms since the epoch). */
  deliveredAt: number;
  /** The record as the collector left it. */
  record(): ThopterRecord;
  /** Observer reports the collector received, in order. */
  observerEntries(): TimelineEntry[];
  waitForState(state: ThopterRecord["state"], timeoutMs?: number): Promise<ThopterRecord>;
  /** tmux as the agent, on the thopter's socket. */
  tmux(...args: string[]): Promise<string>;
  bootLog(): Promise<string>;
  /** The boot log as the hub keeps it (streamed by boot to `POST /v1/logs`); empty while none arrived. */
  archivedBootLog(): Promise<string>;
  /**
   * A restarted machine: every process of it stopped (files kept, as on a Fly volume), then the very same entrypoint
   * run again with the same environment. Resolves once the second boot is done.
   */
  restart(): Promise<void>;
  /** Destroys the machine and everything around it, then fails if GitHub saw traffic its description forbids. */
  close(): Promise<void>;
}

/**
 * One local thopter as the hub makes it: a GitHub peer with the repository and an issue, the hub's collector (in
 * process, on a file store), a model peer playing `scenario`, the spec from the hub's specBuilder, and the hub's
 * local provider running thopter/entrypoint.sh on it (as root: the agent is the real `thopter` user).
 */
export async function startThopter(
  scenario: Scenario,
  options: {
    editSpec?: (spec: ThopterSpec) => void;
    /** More `.env.thopters` lines (e.g. a value marked secret). */
    thopterEnv?: string[];
  } = {},
): Promise<Thopter> {
  const dir = await mkdtemp(join(tmpdir(), "runtime-"));
  await chmod(dir, 0o755);
  const peer = await startGithubPeer();
  const coderToken = `ghp_${randomBytes(18).toString("hex")}`;
  await peer.addRepo(REPO, {
    coderToken,
    issuesToken: `ghp_${randomBytes(18).toString("hex")}`,
    bot: { login: "thopter-bot" },
    files: { "README.md": README },
  });
  const issue = peer.createIssue(REPO, {
    title: "Greet the world",
    body: "Make the README greet the world.",
    author: "alice",
  });
  const issueNumber = issue.number as number;
  peer.addComment(REPO, issueNumber, { body: "Keep it short, please.", author: "bob" });
  const model = await startModelPeer({ scenario });

  const store = await openStore(`file:${join(dir, "state")}`);
  const registry = await Registry.open(store, log, { checkpointMs: 60_000 });
  const tokens = await TokenStore.open(store);
  // As the hub has it: boot streams its logs there (POST /v1/logs).
  const archive = new LogArchive({ dir: join(dir, "state", ".logs"), maxBytes: 64 * 1024 * 1024, retentionDays: 2 });
  const collector = await startCollector({ registry, tokens, log, archive, host: "127.0.0.1", port: 0 });

  const id = `t${randomBytes(4).toString("hex")}`;
  const branch = workBranch(issueNumber, id);
  const record = await registry.create({
    id,
    requestId: "r1",
    repo: REPO,
    issueNumber,
    issueTitle: "Greet the world",
    branch,
    gc: "default",
    prompt: "default",
    state: "provisioning",
    machine: { provider: "local", id },
  });
  const minted = await tokens.mint(id);
  const envFile = join(dir, "thopters.env");
  const apiKey = `sk-ant-test-${randomBytes(12).toString("hex")}`;
  await writeFile(
    envFile,
    [
      `ANTHROPIC_BASE_URL=${model.url}`,
      `ANTHROPIC_API_KEY=${apiKey}`,
      "DISABLE_TELEMETRY=1",
      "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
      ...(options.thopterEnv ?? []),
    ].join("\n"),
  );
  const spec = await specBuilder({
    collectorUrl: collector.url,
    githubApiUrl: peer.url,
    promptsDir: join(REPO_ROOT, "prompts"),
    thopterEnvFile: envFile,
    agentUser: { name: "Thopter Bot", email: "bot@example.invalid" },
    coderToken: async ({ repo }) => (repo === REPO ? coderToken : undefined),
    entrypoint: [ENTRYPOINT],
  })({
    record: record as ThopterRecord,
    request: { command: { kind: "start", instructions: "Say hello to the world." } } as ThopterRequest,
    tokens: minted,
  });
  options.editSpec?.(spec);

  const machines = join(dir, "machines");
  await mkdir(machines, { mode: 0o755 });
  const provider = new LocalProvider({ root: machines, log, stopGraceMs: 3_000 });
  const deliveredAt = Date.now();
  await provider.create(spec, { thopterId: id, repo: REPO, issueNumber });
  const fsRoot = join(machines, id, "root");
  const layout = hostLayout(fsRoot);
  // As root the thopter has its own user (the provider made it); otherwise the agent is this test's own user.
  const agent = (await readRecord(join(machines, id)))?.agent;
  const agentName = agent?.name ?? AGENT_USER;
  const { stdout: uid } = await run("id", ["-u", agentName]);
  const socket = tmuxSocket(layout.tmuxDir, Number(uid.trim()));

  const thopter: Thopter = {
    id,
    branch,
    issueNumber,
    coderToken,
    reportToken: minted.broker,
    modelKey: apiKey,
    peer,
    model,
    registry,
    agentUser: agentName,
    fsRoot,
    layout,
    repoDir: join(layout.workspace, "app"),
    deliveredAt,
    machineState: () => provider.status({ provider: "local", id }),
    record: () => registry.get(id)!,
    observerEntries: () => registry.get(id)!.timeline.filter((e) => e.source === "observer"),
    waitForState: (state, timeoutMs = 90_000) =>
      poll(
        () => (registry.get(id)?.state === state ? registry.get(id) : undefined),
        timeoutMs,
        () => `state ${state} (now ${registry.get(id)?.state}); boot log:\n${bootTail(layout)}`,
      ),
    tmux: async (...args) => (await run("runuser", ["-u", agentName, "--", "tmux", "-S", socket, ...args])).stdout,
    bootLog: () => readFile(layout.bootLog, "utf8"),
    archivedBootLog: () => readFile(archive.bootLog(id), "utf8").catch(() => ""),
    async restart() {
      const dir = join(machines, id);
      await stopLocalMachine(dir, 3_000);
      const boots = (await readFile(layout.bootLog, "utf8")).split("boot done").length;
      const child = spawn(ENTRYPOINT, [], {
        cwd: fsRoot,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: "/root",
          ...spec.env,
          ...(agent ? { [AGENT_USER_ENV]: agent.name } : {}),
          THOPTER_FS_ROOT: fsRoot,
        },
        detached: true,
        stdio: "ignore",
      });
      child.unref();
      await poll(
        async () => ((await readFile(layout.bootLog, "utf8")).split("boot done").length > boots ? true : undefined),
        90_000,
        () => `the second boot; boot log:\n${bootTail(layout)}`,
      );
    },
    async close() {
      await provider.destroy({ provider: "local", id }).catch(() => undefined);
      await collector.close();
      await registry.close();
      await store.close();
      await model.close();
      await peer.close();
      await rm(dir, { recursive: true, force: true });
      await assertNoProcessesMentioning(dir); // the machine's processes (broker, tmux, Claude, observer) are gone
      peer.assertClean(); // the thopter's GitHub traffic (broker and boot) matched GitHub's OpenAPI description
    },
  };
  return thopter;
}

/** Changes the job file (`/etc/thopter/thopter.json`) the hub put in `spec`, as a hub configured otherwise would. */
export function editJob(spec: ThopterSpec, edit: (job: Record<string, unknown>) => void): void {
  const config = spec.files.find((f) => f.path === THOPTER_PATHS.config);
  if (!config) throw new Error(`the spec has no ${THOPTER_PATHS.config}`);
  const job = JSON.parse(Buffer.from(config.contentBase64, "base64").toString("utf8")) as Record<string, unknown>;
  edit(job);
  config.contentBase64 = Buffer.from(JSON.stringify(job)).toString("base64");
}

/**
 * Gives the job an access key, as a hub with web access configured does: the thopter then serves its session log (with
 * the boot log) and web terminal, here on free ports of 127.0.0.1. Tokens for them are minted with `key`.
 */
export function giveAccess(spec: ThopterSpec, key: string): void {
  editJob(spec, (job) => {
    job.access = { keyFile: THOPTER_PATHS.accessKey, terminalPort: 0, logPort: 0 };
  });
  spec.files.push({
    path: THOPTER_PATHS.accessKey,
    contentBase64: Buffer.from(key).toString("base64"),
    mode: 0o600,
    owner: "root",
  });
}

/** The session log's base URL, once the (first) boot has logged it: its first step after reading the job. */
export function sessionLogUrl(t: Thopter, timeoutMs = 60_000): Promise<string> {
  return poll(
    async () => {
      const lines = (await t.bootLog().catch(() => "")).split("\n").filter(Boolean);
      return lines.map((l) => JSON.parse(l) as { sessionLog?: string }).find((l) => l.sessionLog)?.sessionLog;
    },
    timeoutMs,
    () => `the session log's address in the boot log:\n${bootTail(t.layout)}`,
  );
}

/** The end of the boot log, to say why a wait failed. */
export function bootTail(layout: LayoutPaths): string {
  try {
    return readFileSync(layout.bootLog, "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no boot log)";
  }
}

/** Observer states in order, each run of one state folded into one, heartbeats left out. */
export function stateSequence(entries: TimelineEntry[]): string[] {
  const states = entries.filter((e) => e.kind !== "heartbeat").map((e) => e.state ?? "?");
  return states.filter((state, i) => state !== states[i - 1]);
}
