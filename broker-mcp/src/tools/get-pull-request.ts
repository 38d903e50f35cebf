import { z } from "zod";
import { pullOfBranch } from "./pull-of-branch.js";
import { defineTool } from "./types.js";

export const getPullRequest = defineTool({
  name: "get_pull_request",
  title: "Read your pull request and its review",
  description:
    "Returns the pull request of your branch: title, body, state, each review's decision and body, every line " +
    "comment (id, path, line, the diff hunk it is on, author, body, which comment it answers) and the conversation " +
    "comments, only those since `since` when given. Reply to a line comment with reply_to_review_comment (its id). " +
    "Rate-limited per thopter together with get_checks.",
  input: z.strictObject({
    since: z.iso
      .datetime()
      .optional()
      .describe("ISO 8601 time: only conversation comments updated at or after it (e.g. your last read)."),
  }),
  run: async (ctx, args) => {
    ctx.budgets.spend("pullReads", "reading the pull request", "keep working and read it again after that time");
    const pull_number = await pullOfBranch(ctx);
    const gh = ctx.github;
    const [{ data: pull }, reviews, lineComments, comments] = await Promise.all([
      gh.rest.pulls.get({ ...ctx.repo, pull_number }),
      gh.paginate(gh.rest.pulls.listReviews, { ...ctx.repo, pull_number, per_page: 100 }),
      gh.paginate(gh.rest.pulls.listReviewComments, { ...ctx.repo, pull_number, per_page: 100 }),
      gh.paginate(gh.rest.issues.listComments, {
        ...ctx.repo,
        issue_number: pull_number,
        per_page: 100,
        ...(args.since ? { since: args.since } : {}),
      }),
    ]);
    const author = (u: { login: string } | null | undefined) => u?.login ?? "ghost";
    const structured = {
      number: pull.number,
      url: pull.html_url,
      title: pull.title,
      body: pull.body ?? "",
      state: pull.state,
      draft: pull.draft ?? false,
      head: { ref: pull.head.ref, sha: pull.head.sha },
      reviews: reviews.map((r) => ({ id: r.id, author: author(r.user), state: r.state, body: r.body ?? "" })),
      reviewComments: lineComments.map((c) => ({
        id: c.id,
        author: author(c.user),
        path: c.path,
        line: c.line ?? c.original_line ?? null,
        diffHunk: c.diff_hunk,
        inReplyTo: c.in_reply_to_id ?? null,
        createdAt: c.created_at,
        body: c.body,
      })),
      comments: comments.map((c) => ({ author: author(c.user), createdAt: c.created_at, body: c.body ?? "" })),
    };
    const lines = [
      `# PR #${pull.number}: ${pull.title} (${pull.state}${pull.draft ? ", draft" : ""})`,
      `head ${pull.head.ref} at ${pull.head.sha}`,
      "",
      pull.body ?? "",
      "",
      `## Reviews (${reviews.length})`,
      ...structured.reviews.map((r) => `- @${r.author}: ${r.state}${r.body ? ` — ${r.body}` : ""}`),
      "",
      `## Line comments (${lineComments.length})`,
      ...structured.reviewComments.flatMap((c) => [
        "",
        `### [${c.id}] @${c.author} on ${c.path}:${c.line}${c.inReplyTo ? ` (reply to ${c.inReplyTo})` : ""}`,
        "```diff",
        c.diffHunk,
        "```",
        c.body,
      ]),
      "",
      `## Conversation${args.since ? ` since ${args.since}` : ""} (${comments.length})`,
      ...structured.comments.flatMap((c) => ["", `### @${c.author} at ${c.createdAt}`, "", c.body]),
    ];
    return { text: lines.join("\n"), structured };
  },
});
