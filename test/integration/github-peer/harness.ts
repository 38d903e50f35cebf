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
