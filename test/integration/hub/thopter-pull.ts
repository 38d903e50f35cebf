import { Octokit } from "@octokit/core";
import type { GithubPeer } from "../../peers/github/index.js";
import { HUMAN_TOKEN, pushFiles } from "../github-peer/harness.js";
import { CODER_TOKEN, REPO } from "./harness.js";

export const BRANCH = "thopter/1--0ld7h0p";

/** The earlier thopter's branch and draft PR (that thopter was reaped: the hub has no record of it); its number. */
export async function thopterPull(peer: GithubPeer): Promise<number> {
  peer.addUser("acme", { token: HUMAN_TOKEN });
  await pushFiles(peer, BRANCH, { "wobble.ts": "export const wobble = 1;\n" }, "Fix", REPO);
  const [owner, repo] = REPO.split("/") as [string, string];
  const coder = new Octokit({ baseUrl: peer.url, auth: CODER_TOKEN });
  const body = { owner, repo, head: BRANCH, base: "main", title: "Fix the wobble", draft: true };
  return (await coder.request("POST /repos/{owner}/{repo}/pulls", body)).data.number;
}
