import { z } from "zod";
import { agentHead, NothingNew, receiveAgentBundle } from "../git/bundle.js";
import { inspectPush } from "../git/inspect.js";
import { pushToOrigin } from "../git/push.js";
import { defineTool, type ToolContext } from "./types.js";

export function compareUrl(ctx: ToolContext): string {
  return `${ctx.htmlUrl}/compare/${ctx.config.defaultBranch}...${ctx.config.workBranch}`;
}

export const pushBranch = defineTool({
  name: "push_branch",
  title: "Push your work branch",
  description:
    "Publish your work: pushes the commit at HEAD of your workspace repository to your work branch on GitHub " +
    "(the only branch you can push; its name is fixed). Commit first; uncommitted changes are not pushed. " +
    "Returns the branch, the pushed commit and a compare link. If the branch on GitHub has moved on, call " +
    "update_from_origin, `git fetch origin` and rebase; use force: true only to replace your own earlier pushes. " +
    "Rate-limited per thopter: commit often, push when a piece of work is ready.",
  input: z.strictObject({
    force: z
      .boolean()
      .optional()
      .describe(
        "Replace the remote work branch even if your HEAD does not contain it (after a rebase). Default false.",
      ),
  }),
  output: z.object({ branch: z.string(), sha: z.string(), compareUrl: z.string() }),
  run: async (ctx, args) => {
    ctx.budgets.spend("pushes", "a push", "keep committing meanwhile: the next push sends every commit made since");
    return ctx.gitLock.run(async () => {
      const { config, mirror } = ctx;
      const repo = { agent: config.agent, workspace: config.workspace, timeoutMs: config.limits.gitTimeoutMs };
      const tips = mirror.tips();
      let sha: string;
      try {
        const commits = tips.then((t) => t.commits);
        sha = await receiveAgentBundle({ ...repo, mirror, tips: commits, maxBytes: config.limits.maxPushBytes });
      } catch (err) {
        // Nothing new: HEAD is a commit the mirror already has (e.g. pushing again, or the base itself).
        if (!(err instanceof NothingNew)) throw err;
        sha = await agentHead(repo);
      }
      const { refs, commits } = await tips;
      const { maxFileBytes } = config.limits;
      const check = () =>
        inspectPush(mirror, {
          sha,
          known: commits,
          maxFileBytes,
          secrets: ctx.coderToken.all,
          heldSecrets: ctx.config.secrets,
        });
      const branch = config.workBranch;
      const seen = refs.get(`refs/heads/${branch}`) ?? null;
      // The push starts while the checks run, and sends nothing to origin unless they pass.
      await pushToOrigin(mirror, { sha, branch, force: args.force === true, seen, check });
      const url = compareUrl(ctx);
      return {
        text: `Pushed ${sha} to ${config.workBranch}. Compare: ${url}`,
        structured: { branch: config.workBranch, sha, compareUrl: url },
      };
    });
  },
});
