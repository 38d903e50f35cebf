import { existsSync } from "node:fs";
import type { Logger } from "pino";
import { git, gitSucceeds } from "./git.js";
import type { WorkspacePlan } from "./plan.js";

/**
 * The agent's clone of the broker's mirror, on the work branch. A clone already there (a restarted machine) is kept
 * as it is, uncommitted work included. The clone's only remote is the mirror's path: no token, no URL of GitHub.
 */
export async function prepareClone(plan: WorkspacePlan, log: Logger): Promise<"cloned" | "kept"> {
  const { home, repoDir, mirror, workBranch } = plan;
  // The mirror belongs to root: git refuses to read another user's repository unless it is named safe.
  const safe = (await git(home, ["config", "--global", "--get-all", "safe.directory"]).catch(() => "")).split("\n");
  if (!safe.includes(mirror)) await git(home, ["config", "--global", "--add", "safe.directory", mirror]);
  await git(home, ["config", "--global", "user.name", plan.gitUser.name]);
  await git(home, ["config", "--global", "user.email", plan.gitUser.email]);

  if (existsSync(`${repoDir}/.git`)) {
    log.info({ repoDir }, "clone already there: kept as it is");
    return "kept";
  }
  // --no-hardlinks: the mirror's objects are root's; the agent's clone gets copies of its own.
  await git(home, ["clone", "--quiet", "--no-hardlinks", "--", mirror, repoDir]);
  const remoteBranch = `refs/remotes/origin/${workBranch}`;
  const resume = await gitSucceeds(home, ["rev-parse", "--verify", "--quiet", remoteBranch], repoDir);
  // A branch pushed by an earlier thopter run continues; otherwise it starts at the default branch.
  await git(home, ["checkout", "--quiet", "-B", workBranch, ...(resume ? [remoteBranch] : [])], repoDir);
  log.info({ repoDir, workBranch, resumed: resume }, "cloned from the mirror");
  return "cloned";
}
