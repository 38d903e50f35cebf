import { existsSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Logger } from "pino";
import { git, gitSucceeds } from "./git.js";
import type { WorkspacePlan } from "./plan.js";

/**
 * The agent's clone of the broker's mirror, on the work branch. A clone already there (a restarted machine) is kept
 * as it is, uncommitted work included. The clone's only remote is the mirror's path: no token, no URL of GitHub.
 * It is made beside the workspace and renamed into place once checked out, so a boot killed mid-clone leaves no
 * half clone that the next boot would take for one; a folder in the way that is not a clone is never deleted.
 */
export async function prepareClone(plan: WorkspacePlan, log: Logger, path: string): Promise<"cloned" | "kept"> {
  const { home, repoDir, mirror, workBranch } = plan;
  const user = { home, path };
  // The mirror belongs to root: git refuses to read another user's repository unless it is named safe.
  const safe = (await git(user, ["config", "--global", "--get-all", "safe.directory"]).catch(() => "")).split("\n");
  if (!safe.includes(mirror)) await git(user, ["config", "--global", "--add", "safe.directory", mirror]);
  await git(user, ["config", "--global", "user.name", plan.gitUser.name]);
  await git(user, ["config", "--global", "user.email", plan.gitUser.email]);

  if (existsSync(`${repoDir}/.git`)) {
    log.info({ repoDir }, "clone already there: kept as it is");
    return "kept";
  }
  const partial = join(dirname(repoDir), `.${basename(repoDir)}.cloning`);
  // Only an earlier boot's unfinished clone can be here: nobody has worked in it.
  rmSync(partial, { recursive: true, force: true });
  // --no-hardlinks: the mirror's objects are root's; the agent's clone gets copies of its own.
  await git(user, ["clone", "--quiet", "--no-hardlinks", "--", mirror, partial]);
  const remoteBranch = `refs/remotes/origin/${workBranch}`;
  const resume = await gitSucceeds(user, ["rev-parse", "--verify", "--quiet", remoteBranch], partial);
  // A branch pushed by an earlier thopter run continues; otherwise it starts at the default branch.
  await git(user, ["checkout", "--quiet", "-B", workBranch, ...(resume ? [remoteBranch] : [])], partial);
  moveIntoPlace(partial, repoDir);
  log.info({ repoDir, workBranch, resumed: resume }, "cloned from the mirror");
  return "cloned";
}

/** Renames the finished clone to `repoDir`, which may be missing or an empty folder, never a folder with files. */
function moveIntoPlace(partial: string, repoDir: string): void {
  try {
    renameSync(partial, repoDir);
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST" || code === "ENOTDIR") {
      throw new Error(
        `${repoDir} is in the way and is not a git clone (no .git in it): nothing was deleted; move it away and restart the thopter`,
      );
    }
    throw err;
  }
}
