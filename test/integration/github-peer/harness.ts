import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { Octokit } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import { restEndpointMethods } from "@octokit/plugin-rest-endpoint-methods";
import { type GithubPeer, startGithubPeer } from "../../peers/github/index.js";

/** A seeded peer for the GitHub peer's own tests: one repository, its bot's two tokens and a human owner. */

export const REPO = "acme/app";
export const ISSUES_TOKEN = "issues-token-0001";
export const CODER_TOKEN = "coder-token-0001";
export const HUMAN_TOKEN = "human-token-0001";
export const BOT = "thopter-bot";

const run = promisify(execFile);

export const RestOctokit = Octokit.plugin(paginateRest, restEndpointMethods);

/** A clock the test moves by hand, so timestamps (whole seconds, like GitHub's) are predictable. */
export class ManualClock {
  private at = new Date("2026-03-01T12:00:00Z").getTime();
  readonly now = (): Date => new Date(this.at);
  advance(seconds: number): void {
    this.at += seconds * 1000;
  }
  iso(): string {
    return new Date(this.at).toISOString().replace(/\.\d{3}Z$/, "Z");
  }
}

export async function seededPeer(options: { rateLimit?: number; clock?: ManualClock } = {}): Promise<GithubPeer> {
  const peer = await startGithubPeer({ now: options.clock?.now, rateLimit: options.rateLimit });
  await peer.addRepo(REPO, {
    files: { "README.md": "# app\n", "src/index.ts": "export const answer = 42;\n" },
    issuesToken: ISSUES_TOKEN,
    coderToken: CODER_TOKEN,
    bot: { login: BOT },
  });
  peer.addUser("acme", { token: HUMAN_TOKEN });
  return peer;
}

export function octokit(peer: GithubPeer, token: string) {
  // No retries or throttling here: these tests look at single answers.
  return new RestOctokit({ baseUrl: peer.url, auth: token, request: { retries: 0 } });
}

export const [OWNER, NAME] = REPO.split("/") as [string, string];

/**
 * The human owner pushes one commit of `files` to `branch` (from the default branch if new; a real git push through
 * the peer's git bridge); returns the new commit's SHA.
 */
export async function pushFiles(
  peer: GithubPeer,
  branch: string,
  files: Record<string, string>,
  message = "Change files",
  repo = REPO,
): Promise<string> {
  const url = new URL(peer.gitUrl(repo));
  url.username = "x-access-token";
  url.password = HUMAN_TOKEN;
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_TERMINAL_PROMPT: "0" };
  const work = await mkdtemp(join(tmpdir(), "github-peer-push-"));
  const git = (...args: string[]) =>
    run("git", ["-C", work, "-c", "user.name=Ann", "-c", "user.email=a@x.test", ...args], { env });
  try {
    await run("git", ["clone", "--quiet", url.toString(), work], { env });
    // On top of the branch when it exists already, so a second push adds a commit like a fix-up would.
    const existing = await git("rev-parse", "--verify", "--quiet", `origin/${branch}`).catch(() => undefined);
    await git("checkout", "--quiet", "-B", branch, existing ? `origin/${branch}` : "HEAD");
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(work, path)), { recursive: true });
      await writeFile(join(work, path), content);
    }
    await git("add", "--all");
    await git("commit", "--quiet", "-m", message);
    await git("push", "--quiet", "origin", `HEAD:refs/heads/${branch}`);
    return (await git("rev-parse", "HEAD")).stdout.trim();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
