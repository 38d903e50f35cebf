import { httpStatus } from "@thopter/protocol";
import { z } from "zod";
import { Refusal } from "../refusal.js";
import { defineTool } from "./types.js";

export const openPullRequest = defineTool({
  name: "open_pull_request",
  title: "Open a pull request",
  description:
    "Opens a pull request from your work branch into the default branch, as a draft unless draft is false. Push " +
    "first with push_branch. If one is already open for your branch, returns it unchanged (safe to call again).",
  input: z.strictObject({
    title: z.string().trim().min(1, "must not be empty").max(256, "must be at most 256 characters"),
    body: z
      .string()
      .max(65_536, "must be at most 65,536 characters")
      .describe("Markdown description; mention the issue."),
    draft: z.boolean().optional().describe("Default true: open as a draft."),
  }),
  output: z.object({ url: z.string(), number: z.number(), existing: z.boolean() }),
  run: async (ctx, args) => {
    ctx.budgets.spend(
      "pullRequests",
      "open_pull_request",
      "use the pull request you already have: every later push_branch shows up in it by itself",
    );
    // One at a time: two calls that both find no pull request would both create one, and the second would fail.
    return ctx.gitLock.run(async () => {
      const { workBranch, defaultBranch } = ctx.config;
      const open = await ctx.github.rest.pulls.list({
        ...ctx.repo,
        state: "open",
        head: `${ctx.repo.owner}:${workBranch}`,
        base: defaultBranch,
        per_page: 1,
      });
      const existing = open.data[0];
      if (existing) {
        ctx.pullRequestUrl = existing.html_url;
        return {
          text: `A pull request is already open for ${workBranch}: ${existing.html_url}`,
          structured: { url: existing.html_url, number: existing.number, existing: true },
        };
      }
      try {
        const { data } = await ctx.github.rest.pulls.create({
          ...ctx.repo,
          title: ctx.redact(args.title),
          body: ctx.redact(args.body),
          head: workBranch,
          base: defaultBranch,
          draft: args.draft ?? true,
        });
        ctx.pullRequestUrl = data.html_url;
        return {
          text: `Opened ${data.draft ? "draft " : ""}pull request #${data.number}: ${data.html_url}`,
          structured: { url: data.html_url, number: data.number, existing: false },
        };
      } catch (err) {
        if (httpStatus(err) === 422) {
          throw new Refusal(
            `GitHub would not open the pull request (${(err as Error).message}). Push your commits with push_branch first; a pull request needs commits that ${defaultBranch} does not have.`,
          );
        }
        throw err;
      }
    });
  },
});
