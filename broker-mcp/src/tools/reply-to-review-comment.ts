import { z } from "zod";
import { MAX_COMMENT } from "./comment-on-issue.js";
import { pullOfBranch } from "./pull-of-branch.js";
import { defineTool } from "./types.js";

export const replyToReviewComment = defineTool({
  name: "reply_to_review_comment",
  title: "Answer a line comment on your pull request",
  description:
    "Replies in the thread of a line comment on your branch's pull request (`comment_id` from get_pull_request), " +
    "e.g. to say what you changed. Counts against the same budget as comment_on_issue; anything that looks like a " +
    "secret is replaced with [REDACTED].",
  input: z.strictObject({
    comment_id: z.number().int().positive().describe("The line comment's id, from get_pull_request."),
    body: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .max(MAX_COMMENT, `must be at most ${MAX_COMMENT} characters`)
      .describe("The reply, in GitHub-flavoured markdown."),
  }),
  output: z.object({ url: z.string(), redacted: z.boolean() }),
  run: async (ctx, args) => {
    ctx.budgets.spend("comments", "a reply", "answer several comments in one reply, or wait");
    // Only the thread of this branch's pull request: a comment id of another PR is answered 404 by GitHub.
    const pull_number = await pullOfBranch(ctx);
    const body = ctx.redact(args.body);
    const { data } = await ctx.github.rest.pulls.createReplyForReviewComment({
      ...ctx.repo,
      pull_number,
      comment_id: args.comment_id,
      body,
    });
    const redacted = body !== args.body;
    return {
      text: `Replied on ${data.path}:${data.line ?? "?"}: ${data.html_url}${redacted ? " (secrets were replaced with [REDACTED])" : ""}`,
      structured: { url: data.html_url, redacted },
    };
  },
});
