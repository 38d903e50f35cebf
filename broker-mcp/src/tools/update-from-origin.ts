import { z } from "zod";
import { defineTool } from "./types.js";

export const updateFromOrigin = defineTool({
  name: "update_from_origin",
  title: "Refresh origin",
  description:
    "Fetches the latest branches from GitHub into the local mirror your repository's `origin` points at. " +
    "Afterwards run `git fetch origin` in your workspace to see them (for example to rebase onto the default branch). Rate-limited per thopter.",
  input: z.strictObject({}),
  run: async (ctx) => {
    ctx.budgets.spend(
      "originFetches",
      "an update",
      "work with what origin had at the last update (`git fetch origin` in your workspace costs nothing)",
    );
    return ctx.gitLock.run(async () => {
      await ctx.mirror.fetchOrigin();
      const { defaultBranch, workBranch } = ctx.config;
      // Read afresh: the fetch dropped the tips the mirror had cached.
      const { refs } = await ctx.mirror.tips();
      const base = refs.get(`refs/heads/${defaultBranch}`) ?? null;
      const work = refs.get(`refs/heads/${workBranch}`) ?? null;
      return {
        text:
          `origin refreshed: ${defaultBranch} is at ${base ?? "(missing)"}, ${workBranch} is at ${work ?? "(not pushed yet)"}. ` +
          "Run `git fetch origin` in your workspace to get them.",
        structured: { defaultBranch, defaultBranchSha: base, workBranch, workBranchSha: work },
      };
    });
  },
});
