import { notFound, validationFailed } from "./errors.js";
import type { Issue } from "./model.js";
import { paginate } from "./paginate.js";
import { checkRunJson, combinedStatusJson, reviewCommentJson, reviewJson } from "./render-review.js";
import type { ReviewComment } from "./review-model.js";
import {
  associationOf,
  bodyText,
  commentOrder,
  ok,
  PAGING,
  type Route,
  type RouteContext,
  type RouteDeps,
  type RouteResult,
  since,
} from "./route-kit.js";
import { reactionRoutes } from "./routes.js";

/**
 * A pull request's reviews and line comments, and the CI results (check runs, commit statuses) of a commit.
 * Line comments list repository-wide with `since`/`sort` like issue comments, so a poller can watch them with one
 * conditional request.
 */
export function reviewRoutes(deps: RouteDeps): Route[] {
  const { render, reviews } = deps;
  const pullOf = (ctx: RouteContext): Issue => {
    const issue = deps.model.issue(ctx.repo, Number(ctx.params.pull_number));
    if (!issue?.pull) throw notFound();
    return issue;
  };
  const commentOf = (ctx: RouteContext): ReviewComment => {
    const comment = ctx.repo.reviews.comments.get(Number(ctx.params.comment_id));
    if (!comment) throw notFound();
    return comment;
  };
  const listComments = (ctx: RouteContext, pullNumber?: number): RouteResult => {
    const from = since(ctx.url);
    const list = [...ctx.repo.reviews.comments.values()].filter(
      (c) => (pullNumber === undefined || c.pullNumber === pullNumber) && (!from || c.updatedAt >= from),
    );
    const page = paginate(commentOrder(list, ctx.url), ctx.url);
    return { status: 200, body: page.items.map((c) => reviewCommentJson(render, c)), link: page.link };
  };
  const author = (ctx: RouteContext) => ({
    author: ctx.grant.user.login,
    association: associationOf(ctx.repo, ctx.grant),
  });
  const commentQuery = ["sort", "direction", "since", ...PAGING];
  return [
    {
      method: "GET",
      template: "/repos/{owner}/{repo}/pulls/comments",
      needs: ["pulls", "read"],
      query: commentQuery,
      handle: (ctx) => listComments(ctx),
    },
    ...reactionRoutes(deps, "/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions", commentOf, "pulls"),
    {
      method: "GET",
      template: "/repos/{owner}/{repo}/pulls/{pull_number}",
      needs: ["pulls", "read"],
      handle: async (ctx) => {
        const issue = pullOf(ctx);
        await reviews.headOf(issue);
        return ok(render.pull(issue, true));
      },
    },
    {
      method: "GET",
      template: "/repos/{owner}/{repo}/pulls/{pull_number}/comments",
      needs: ["pulls", "read"],
      query: commentQuery,
      handle: (ctx) => listComments(ctx, pullOf(ctx).number),
    },
    {
      method: "POST",
      template: "/repos/{owner}/{repo}/pulls/{pull_number}/comments",
      needs: ["pulls", "write"],
      handle: async (ctx) => {
        const input = (ctx.body ?? {}) as { path?: unknown; line?: unknown };
        const body = bodyText(ctx.body, "body", "PullRequestReviewComment");
        if (typeof input.path !== "string" || typeof input.line !== "number") {
          throw validationFailed({ resource: "PullRequestReviewComment", field: "line", code: "missing_field" });
        }
        const comment = await reviews.addComment(pullOf(ctx), {
          body,
          path: input.path,
          line: input.line,
          ...author(ctx),
        });
        if (!comment) {
          throw validationFailed({
            resource: "PullRequestReviewComment",
            code: "custom",
            message: "line could not be resolved",
          });
        }
        return ok(reviewCommentJson(render, comment), 201);
      },
    },
    {
      method: "POST",
      template: "/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies",
      needs: ["pulls", "write"],
      handle: async (ctx) => {
        const issue = pullOf(ctx);
        const target = commentOf(ctx);
        if (target.pullNumber !== issue.number) throw notFound();
        // A reply to a reply joins the same thread: GitHub threads hang off the first comment.
        const top = target.inReplyToId === undefined ? target : ctx.repo.reviews.comments.get(target.inReplyToId)!;
        const body = bodyText(ctx.body, "body", "PullRequestReviewComment");
        const comment = await reviews.addComment(issue, { body, path: top.path, line: top.line, ...author(ctx) }, top);
        return ok(reviewCommentJson(render, comment!), 201);
      },
    },
    {
      method: "GET",
      template: "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
      needs: ["pulls", "read"],
      query: PAGING,
      handle: (ctx) => {
        const issue = pullOf(ctx);
        const list = [...ctx.repo.reviews.reviews.values()].filter((r) => r.pullNumber === issue.number);
        const page = paginate(list, ctx.url);
        return { status: 200, body: page.items.map((r) => reviewJson(render, r)), link: page.link };
      },
    },
    {
      method: "GET",
      template: "/repos/{owner}/{repo}/commits/{ref}/check-runs",
      needs: ["checks", "read"],
      query: ["check_name", "status", "filter", ...PAGING],
      handle: async (ctx) => {
        const sha = await commitOr404(deps, ctx);
        const q = ctx.url.searchParams;
        let runs = ctx.repo.reviews.checkRuns.filter(
          (r) =>
            r.headSha === sha &&
            (q.get("check_name") === null || r.name === q.get("check_name")) &&
            (q.get("status") === null || r.status === q.get("status")),
        );
        // `filter=latest` (the default) keeps the newest run of each name.
        if (q.get("filter") !== "all") runs = runs.filter((r) => !runs.some((o) => o.name === r.name && o.id > r.id));
        const page = paginate([...runs].reverse(), ctx.url);
        return ok({ total_count: runs.length, check_runs: page.items.map((r) => checkRunJson(render, r)) });
      },
    },
    {
      method: "GET",
      template: "/repos/{owner}/{repo}/commits/{ref}/status",
      needs: ["statuses", "read"],
      query: PAGING,
      handle: async (ctx) => {
        const sha = await commitOr404(deps, ctx);
        const list = ctx.repo.reviews.statuses.filter((s) => s.sha === sha);
        return ok(combinedStatusJson(render, ctx.repo, sha, list));
      },
    },
  ];
}

async function commitOr404(deps: RouteDeps, ctx: RouteContext): Promise<string> {
  try {
    return await deps.reviews.commitOf(ctx.repo, ctx.params.ref ?? "");
  } catch {
    throw validationFailed({
      resource: "Commit",
      field: "ref",
      code: "invalid",
      message: `No commit found for SHA: ${ctx.params.ref}`,
    });
  }
}
