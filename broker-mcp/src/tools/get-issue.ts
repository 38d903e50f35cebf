import { z } from "zod";
import { defineTool } from "./types.js";

export const getIssue = defineTool({
  name: "get_issue",
  title: "Read your issue",
  description:
    "Returns the current title, body and all comments (with their authors) of the issue you are working on. Call " +
    "it when you start and again whenever you may have new instructions or answers to your questions (rate-limited " +
    "per thopter: when waiting for an answer, wait a minute or more between reads).",
  input: z.strictObject({}),
  run: async (ctx) => {
    ctx.budgets.spend(
      "issueReads",
      "reading the issue",
      "keep working and read it again after that time: new comments do not arrive that fast",
    );
    const issue_number = ctx.config.issueNumber;
    const [{ data: issue }, comments] = await Promise.all([
      ctx.github.rest.issues.get({ ...ctx.repo, issue_number }),
      ctx.github.paginate(ctx.github.rest.issues.listComments, { ...ctx.repo, issue_number, per_page: 100 }),
    ]);
    const lines = [
      `# #${issue.number}: ${issue.title}`,
      `state: ${issue.state}; opened by @${issue.user?.login ?? "ghost"}`,
      "",
      issue.body ?? "",
      "",
      `## Comments (${comments.length})`,
      ...comments.flatMap((c) => ["", `### @${c.user?.login ?? "ghost"} at ${c.created_at}`, "", c.body ?? ""]),
    ];
    return {
      text: lines.join("\n"),
      structured: {
        number: issue.number,
        title: issue.title,
        state: issue.state,
        body: issue.body ?? "",
        comments: comments.map((c) => ({
          author: c.user?.login ?? "ghost",
          createdAt: c.created_at,
          body: c.body ?? "",
        })),
      },
    };
  },
});
