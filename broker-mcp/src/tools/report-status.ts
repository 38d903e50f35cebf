import { AgentState, MAX_SUMMARY } from "@thopter/protocol";
import { z } from "zod";
import { defineTool } from "./types.js";

/** The states the hub posts on the issue: each costs one unit of the comment budget; `working` posts nothing. */
const ANNOUNCED = new Set(["done", "blocked", "needs_input"]);

export const reportStatus = defineTool({
  name: "report_status",
  title: "Report your status",
  description:
    "Tell the team where you stand. `done`: the work is pushed (and a pull request opened); `blocked`: you cannot " +
    "continue (say why); `needs_input`: you need an answer from a human (ask the question in the summary); " +
    "`working`: a progress note. The summary (markdown) is posted on the issue when you finish, so make it useful. " +
    "done, blocked and needs_input share comment_on_issue's limit (a few per 10 minutes): report each once.",
  input: z.strictObject({
    state: AgentState.describe("working, done, blocked or needs_input"),
    summary: z
      .string()
      .min(1)
      .max(MAX_SUMMARY, `must be at most ${MAX_SUMMARY} characters; shorten it`)
      .describe("What you did, what is left, and links or questions, in markdown."),
  }),
  run: async (ctx, args) => {
    if (ANNOUNCED.has(args.state)) {
      ctx.budgets.spend("comments", `report_status ${args.state}`, "report once, when you really are done or stuck");
    }
    const report = ctx.outbox.enqueue({
      kind: "status",
      state: args.state,
      summary: ctx.redact(args.summary),
      branch: ctx.config.workBranch,
      ...(ctx.pullRequestUrl ? { pullRequestUrl: ctx.pullRequestUrl } : {}),
    });
    return {
      text: `Status "${args.state}" recorded; it will reach the team even if the hub is briefly unreachable.`,
      structured: { idempotencyKey: report.idempotencyKey },
    };
  },
});
