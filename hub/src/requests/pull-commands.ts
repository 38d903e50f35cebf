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
 * commands: a start becomes a follow-up on that branch (one branch, one writer: never more than one thopter, and
 * not while the branch's thopter is still alive); a stop stops the branch's thopters.
 */
export type PullVerdict = { followUp: FollowUp } | { refused: string };

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
  if (live) {
    return {
      refused: `thopter \`${live.id}\` is still on \`${branch}\` (${live.state}). Passing new instructions to a running thopter is not supported yet: write \`/thopter stop\` here first, then ask again.`,
    };
  }
  return { followUp };
}
