import { Refusal } from "../refusal.js";
import type { ToolContext } from "./types.js";

/** The pull request of the work branch (open or closed, newest first); refused when there is none yet. */
export async function pullOfBranch(ctx: ToolContext): Promise<number> {
  const { data } = await ctx.github.rest.pulls.list({
    ...ctx.repo,
    state: "all",
    head: `${ctx.repo.owner}:${ctx.config.workBranch}`,
    per_page: 1,
  });
  const pull = data[0];
  if (!pull) {
    throw new Refusal(
      `There is no pull request for ${ctx.config.workBranch} yet: push_branch, then open_pull_request first.`,
    );
  }
  return pull.number;
}
