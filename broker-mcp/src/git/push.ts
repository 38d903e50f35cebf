import { PassThrough } from "node:stream";
import { Refusal } from "../refusal.js";
import { isSha, type Mirror } from "./mirror.js";
import { GitError } from "./run.js";

export interface PushOptions {
  sha: string;
  branch: string;
  force: boolean;
  /** The branch's tip on origin as the mirror last saw it (null: not there): a forced push's lease. */
  seen: string | null;
  /**
   * Runs every check on the push, called once git has started: resolves if they passed, rejects to abandon the
   * push before anything reaches origin.
   */
  check: () => Promise<void>;
}

/**
 * Pushes exactly `<sha>:refs/heads/<branch>` from the mirror to origin: one refspec built here from a verified
 * sha and the configured branch, nothing taken from the agent. A forced push is a lease on the tip the mirror
 * last saw, so it can only replace what the broker itself knows is there. Origin is named as the mirror's remote
 * (its configured URL), so on success git records the new tip in the mirror itself (its fetch refspec maps
 * refs/heads/* onto itself): the next lease, and what the agent fetches.
 */
export async function pushToOrigin(mirror: Mirror, opts: PushOptions): Promise<void> {
  if (!isSha(opts.sha)) throw new Error(`refusing to push a non-sha ${JSON.stringify(opts.sha)}`);
  const ref = `refs/heads/${opts.branch}`;
  const args = ["-c", `core.hooksPath=${mirror.hooksPath}`, "push", "--porcelain"];
  args.push("--no-follow-tags", "--no-recurse-submodules");
  if (opts.force) args.push(`--force-with-lease=${ref}:${opts.seen ?? ""}`);
  args.push("--", "origin", `${opts.sha}:${ref}`);
  // git starts and reads origin's refs while the checks finish; its pre-push hook holds the pack back until then.
  const verdict = new PassThrough();
  const pushing = mirror.git(args, { authenticated: true, okCodes: [1], fd3: verdict });
  const outcome = Promise.allSettled([pushing]);
  const [checked] = await Promise.allSettled([opts.check()]);
  if (checked.status === "rejected") {
    verdict.end(); // no word: the hook fails and git sends nothing
    await outcome;
    throw checked.reason;
  }
  verdict.end("go\n");
  const [pushed] = await outcome;
  if (pushed.status === "rejected") {
    const err = pushed.reason;
    const detail = err instanceof GitError ? err.stderr.trim().slice(-500) : String(err);
    throw new Error(`pushing to origin failed: ${detail}`);
  }
  const { stdout } = pushed.value;
  const line = stdout.split("\n").find((l) => l.includes(`:${ref}\t`));
  if (!line) throw new Error(`pushing to origin failed: no status for ${ref} in ${JSON.stringify(stdout.slice(-500))}`);
  if (line.startsWith("!")) throw rejection(line.split("\t")[2] ?? line, opts.branch);
}

function rejection(summary: string, branch: string): Refusal {
  if (/stale info/.test(summary)) {
    return new Refusal(
      `origin's ${branch} changed since the broker last looked. Call update_from_origin, run \`git fetch origin\` and look at origin/${branch} before forcing again.`,
    );
  }
  if (/non-fast-forward|fetch first/.test(summary)) {
    return new Refusal(
      `origin's ${branch} has commits your HEAD does not contain. Call update_from_origin, then \`git fetch origin\` and rebase or merge onto origin/${branch}, and push again; or call push_branch with force: true to replace the remote branch with your HEAD.`,
    );
  }
  return new Refusal(`origin refused the push (${summary.trim()}). Nothing was changed on origin.`);
}
