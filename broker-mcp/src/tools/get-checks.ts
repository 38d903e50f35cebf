import { httpStatus } from "@thopter/protocol";
import { z } from "zod";
import { defineTool } from "./types.js";

/** How much of a check's details (GitHub Actions put the failing step's log there) the model gets. */
const MAX_EXCERPT = 4000;

export const getChecks = defineTool({
  name: "get_checks",
  title: "Read the CI results of your branch",
  description:
    "Returns the check runs and commit statuses of your branch's head commit on GitHub: name, status, conclusion, " +
    "summary, and an excerpt of the details (where CI puts the failing step's log). Push first: checks run on what " +
    "GitHub has. Rate-limited per thopter together with get_pull_request.",
  input: z.strictObject({}),
  run: async (ctx) => {
    ctx.budgets.spend("pullReads", "reading the checks", "keep working and read them again after that time");
    const ref = ctx.config.workBranch;
    const [runs, combined] = await Promise.all([
      ctx.github.rest.checks.listForRef({ ...ctx.repo, ref, per_page: 100 }),
      // A token without "Commit statuses: read" still gets the check runs.
      ctx.github.rest.repos.getCombinedStatusForRef({ ...ctx.repo, ref, per_page: 100 }).catch((err: unknown) => {
        if (httpStatus(err) === 403) return undefined;
        throw err;
      }),
    ]);
    const checks = runs.data.check_runs.map((r) => ({
      name: r.name,
      status: r.status,
      conclusion: r.conclusion,
      title: r.output.title ?? null,
      summary: r.output.summary ?? null,
      excerpt: r.output.text ? r.output.text.slice(-MAX_EXCERPT) : null,
      url: r.html_url ?? null,
    }));
    const statuses = (combined?.data.statuses ?? []).map((s) => ({
      context: s.context,
      state: s.state,
      description: s.description,
      url: s.target_url,
    }));
    const failing = checks.filter((c) => c.conclusion && !["success", "neutral", "skipped"].includes(c.conclusion));
    const pending = checks.filter((c) => c.status !== "completed");
    const sha = combined?.data.sha ?? runs.data.check_runs[0]?.head_sha ?? null;
    const lines = [
      `# Checks of ${ref}${sha ? ` at ${sha}` : ""}: ${failing.length} failing, ${pending.length} pending, ${checks.length} in all`,
      ...checks.flatMap((c) => [
        "",
        `## ${c.name}: ${c.conclusion ?? c.status}${c.title ? ` — ${c.title}` : ""}`,
        ...(c.summary ? [c.summary] : []),
        ...(c.excerpt ? ["```", c.excerpt, "```"] : []),
      ]),
      ...(statuses.length > 0 ? ["", `## Statuses (combined: ${combined?.data.state})`] : []),
      ...statuses.map((s) => `- ${s.context}: ${s.state}${s.description ? ` — ${s.description}` : ""}`),
    ];
    return {
      text: lines.join("\n"),
      structured: { ref, sha, checks, statuses, combinedState: combined?.data.state ?? null },
    };
  },
});
