import { RequestError } from "@octokit/request-error";
import type { RepoFullName } from "@thopter/protocol";
import { splitRepo } from "../github/issues.js";
import type { GitHubClient } from "../github/octokit.js";

/** One check run of the head, as a completion comment names it. */
export interface CheckLine {
  name: string;
  /** `passing` (success, neutral, skipped), `failing` (any other conclusion) or `pending` (not completed yet). */
  state: "passing" | "failing" | "pending";
}

/** What one round of a follow-up changed on its PR, read by the hub when the round reports. */
export interface RoundFacts {
  /** The commits pushed since the round's starting tip, oldest first (first line of each message). */
  commits: { sha: string; subject: string }[];
  /** The head's check runs; `undefined` when the hub's token may not read them (no `checks: read`). */
  checks: CheckLine[] | undefined;
}

const PASSING = ["success", "neutral", "skipped"];
const ORDER: CheckLine["state"][] = ["failing", "pending", "passing"];

/**
 * The round's commits come from the PR's own commit list (`pulls: read`, which the hub's token has): everything after
 * the starting tip. GitHub lists at most 250; a tip not among them (history rewritten, or older than that) counts
 * every listed commit as new, which says too much rather than hiding a push.
 */
export async function readRound(
  client: GitHubClient,
  repo: RepoFullName,
  pullNumber: number,
  startTip: string,
): Promise<RoundFacts> {
  const listed = await client.paginate("GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", {
    ...splitRepo(repo),
    pull_number: pullNumber,
    per_page: 100,
  });
  const after = listed.findIndex((c) => c.sha === startTip) + 1;
  const commits = listed.slice(after).map((c) => ({ sha: c.sha, subject: c.commit.message.split("\n")[0] ?? "" }));
  const head = listed.at(-1)?.sha;
  return { commits, checks: head ? await readChecks(client, repo, head) : [] };
}

async function readChecks(client: GitHubClient, repo: RepoFullName, sha: string): Promise<CheckLine[] | undefined> {
  try {
    const runs = await client.paginate("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
      ...splitRepo(repo),
      ref: sha,
      per_page: 100,
    });
    const lines = runs.map((run): CheckLine => {
      const done = run.status === "completed";
      return {
        name: run.name,
        state: !done ? "pending" : PASSING.includes(run.conclusion ?? "") ? "passing" : "failing",
      };
    });
    // What needs someone first: failures, then what is still running.
    return lines.sort((a, b) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state) || a.name.localeCompare(b.name));
  } catch (err) {
    // A token without `checks: read` is a setup choice, not a failure: the comment points to the PR instead.
    if (err instanceof RequestError && (err.status === 403 || err.status === 404)) return undefined;
    throw err;
  }
}
