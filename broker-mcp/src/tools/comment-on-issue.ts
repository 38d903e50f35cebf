import { z } from "zod";
import { defineTool } from "./types.js";

/** GitHub's own limit on a comment body. */
export const MAX_COMMENT = 65_536;

export const commentOnIssue = defineTool({
  name: "comment_on_issue",
  title: "Comment on your issue",
  description:
    "Posts a markdown comment on the issue you are working on (only that issue). Use it for questions or notable " +
    `progress, sparingly: a few comments per 10 minutes at most, at most ${MAX_COMMENT.toLocaleString("en-US")} ` +
    "characters each. Anything that looks like a secret is replaced with [REDACTED]. Your final summary belongs in " +
    "report_status, not here.",
  input: z.strictObject({
    body: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .max(MAX_COMMENT, `must be at most ${MAX_COMMENT} characters; shorten it or split it into two comments`)
      .describe("The comment, in GitHub-flavoured markdown."),
  }),
  output: z.object({ url: z.string(), redacted: z.boolean() }),
  run: async (ctx, args) => {
    ctx.budgets.spend("comments", "a comment", "gather what you have to say into one comment");
    const body = ctx.redact(args.body);
    const { data } = await ctx.github.rest.issues.createComment({
      ...ctx.repo,
      issue_number: ctx.config.issueNumber,
      body,
    });
    const redacted = body !== args.body;
    return {
      text: `Commented on issue #${ctx.config.issueNumber}: ${data.html_url}${redacted ? " (secrets were replaced with [REDACTED])" : ""}`,
      structured: { url: data.html_url, redacted },
    };
  },
});
