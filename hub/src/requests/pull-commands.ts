import {
  type FollowUp,
  isWorkBranch,
  type RepoFullName,
  type StartCommand,
  type ThopterRecord,
} from "@thopter/protocol";
import { splitRepo } from "../github/issues.js";
import type { GitHubClient } from "../github/octokit.js";

/**
 * What a command on a pull request may do. Only a PR whose head is a thopter's branch (`thopter/<issue>--<id>`, as
 * `workBranch` names them) of this repository takes
 * commands: a start becomes a follow-up on that branch (one branch, one writer: never more than one thopter). While
 * the branch's thopter runs its Claude session, the follow-up goes to that session (`deliverTo`) instead of a new
 * thopter; a stop stops the branch's thopters.
 */
export type PullVerdict = { followUp: FollowUp; deliverTo?: string } | { refused: string };

/** States in which the thopter's Claude session runs (or is about to) and its observer will pick follow-ups up. */
const RECEIVING = ["booting", "working", "waiting", "done", "blocked"];

/** A thopter that still holds the branch (states from which it could push again). */
const HOLDING = ["requested", "provisioning", "booting", "working", "waiting", "done", "blocked", "stopping"];

export function holdingThopter(
  records: readonly Readonly<ThopterRecord>[],
  repo: RepoFullName,
  branch: string,
): Readonly<ThopterRecord> | undefined {
  return records.find((r) => r.repo === repo && r.branch === branch && HOLDING.includes(r.state));
}

export async function checkPullCommand(
  client: GitHubClient,
  repo: RepoFullName,
  pullNumber: number,
  command: StartCommand | { kind: "stop" },
  holder: (branch: string) => Readonly<ThopterRecord> | undefined,
): Promise<PullVerdict> {
  const { data } = await client.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
    ...splitRepo(repo),
    pull_number: pullNumber,
  });
  const branch = data.head.ref;
  const ownBranch = data.head.repo?.full_name?.toLowerCase() === repo.toLowerCase() && isWorkBranch(branch);
  if (!ownBranch) {
    return {
      refused: `this pull request's branch \`${data.head.label}\` is not a thopter's branch, so there is nothing to follow up on. Start a thopter from an issue instead.`,
    };
  }
  const followUp = { pullNumber, branch, tipSha: data.head.sha };
  if (command.kind === "stop") return { followUp };
  if (command.count > 1) {
    return {
      refused: `\`-n ${command.count}\` cannot work on a pull request: one branch has one writer. Ask again without \`-n\`.`,
    };
  }
  const live = holder(branch);
  if (live && RECEIVING.includes(live.state)) return { followUp, deliverTo: live.id };
  if (live) {
    return {
      refused: `thopter \`${live.id}\` on \`${branch}\` is ${live.state}, so it cannot take new instructions now. Ask again once it runs (or after it stopped).`,
    };
  }
  return { followUp };
}
