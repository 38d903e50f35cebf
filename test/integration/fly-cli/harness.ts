import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlyMachinesClient } from "@thopter/fly";
import { runCli } from "@thopter/fly/cli/run";
import { pino } from "pino";
import { FlyPeer, type FlyPeerOptions } from "../../peers/fly/index.js";
import { type GithubPeer, startGithubPeer } from "../../peers/github/index.js";

export const REPO = "acme/widgets";
export const TOKENS = { issuesToken: "issues-token-0123456789", coderToken: "coder-token-0123456789" };

export interface CliResult {
  code: number;
  lines: string[];
  text: string;
}

export interface CliHarness {
  fly: FlyPeer;
  github: GithubPeer;
  /** The working directory the CLI runs in (its `.env`, `.thopter/`). */
  dir: string;
  /** Environment every run gets, before per-run overrides. */
  env: Record<string, string>;
  /** Runs `pnpm fly ARGS`; returns the exit code and the lines printed. */
  run(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** Runs in another directory with only the given environment (a team member's checkout). */
  runIn(cwd: string, args: string[], env: Record<string, string>): Promise<CliResult>;
  close(): Promise<void>;
}

/**
 * A Fly peer, a GitHub peer with one repository and the bot's two tokens, and a fresh directory for the CLI.
 * `peer` adds to the Fly peer's options (`run`: machines run as local processes).
 */
export async function startCli(
  clock: { now: Date } = { now: new Date() },
  peer: FlyPeerOptions = {},
): Promise<CliHarness> {
  const fly = await FlyPeer.start({ app: "swarm-test", transitionMs: 10, ...peer });
  const github = await startGithubPeer();
  await github.addRepo(REPO, { ...TOKENS, bot: { login: "thopter-bot" } });
  const dir = await mkdtemp(join(tmpdir(), "fly-cli-"));
  await writeFile(join(dir, ".env.thopters"), "# for thopters\nNODE_ENV=development\n");
  await mkdir(join(dir, "prompts"));
  await writeFile(join(dir, "prompts", "default.md"), "Work on {{repository}}#{{issueNumber}}.\n");
  await writeFile(join(dir, "prompts", "plan.md"), "Post a plan for {{repository}}#{{issueNumber}}.\n");
  await writeFile(join(dir, "prompts", "notes.txt"), "not a prompt\n");
  const env = {
    FLY_API_URL: fly.url,
    FLY_API_TOKEN: fly.token,
    APP_NAME: fly.app,
    REGION: "iad",
    THOPTER_IMAGE: "registry.fly.io/swarm-test:thopter-1",
    HUB_IMAGE: "registry.fly.io/swarm-test:hub-1",
    GITHUB_API_URL: github.url,
    GITHUB_INTEGRATION_JSON: JSON.stringify({
      repositories: { [REPO]: TOKENS },
      agentUser: { name: "Thopter Bot", email: "bot@example.com" },
    }),
  };
  const logger = pino({ level: "silent" });
  const runIn = async (cwd: string, args: string[], runEnv: Record<string, string>): Promise<CliResult> => {
    const lines: string[] = [];
    const code = await runCli(args, {
      cwd,
      env: runEnv,
      say: (line) => lines.push(line),
      logger,
      now: () => clock.now,
      client: { rateLimits: { default: { perSecond: 100, burst: 20 } }, retry: { baseDelayMs: 5, maxDelayMs: 20 } },
    });
    return { code, lines, text: lines.join("\n") };
  };
  return {
    fly,
    github,
    dir,
    env,
    run: (args, extra = {}) => runIn(dir, args, { ...env, ...extra }),
    runIn,
    async close() {
      await fly.close();
      await github.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A client of the harness's Fly peer, for setting the scene (thopters the hub made, what a golden claude reports). */
export function peerClient(cli: CliHarness): FlyMachinesClient {
  return new FlyMachinesClient({
    app: cli.fly.app,
    token: cli.fly.token,
    apiUrl: cli.fly.url,
    logger: pino({ level: "silent" }),
    rateLimits: { default: { perSecond: 100, burst: 20 } },
  });
}
