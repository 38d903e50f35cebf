import { forbiddenFor, notFound, validationFailed } from "./errors.js";
import type { Comment, Issue, Reaction, ReactionContent } from "./model.js";
import { REACTION_CONTENTS } from "./model.js";
import { paginate } from "./paginate.js";
import { pullRoutes } from "./pull-routes.js";
import { reviewRoutes } from "./review-routes.js";
import {
  associationOf,
  bodyText,
  commentOrder,
  ok,
  order,
  PAGING,
  type Route,
  type RouteContext,
  type RouteDeps,
  type RouteResult,
  since,
} from "./route-kit.js";

export type { Route, RouteContext, RouteDeps, RouteResult } from "./route-kit.js";

/**
 * The REST operations the project uses. Each route names its OpenAPI path template (so the server validates it
 * against that operation) and the token permission it needs; handlers read and change the model.
 */

function issueOf(deps: RouteDeps, ctx: RouteContext): Issue {
  const issue = deps.model.issue(ctx.repo, Number(ctx.params.issue_number));
  if (!issue) throw notFound();
  return issue;
}

function commentOf(ctx: RouteContext): Comment {
  const comment = ctx.repo.comments.get(Number(ctx.params.comment_id));
  if (!comment) throw notFound();
  return comment;
}

function reactionInput(body: unknown): ReactionContent {
  const content = (body as { content?: unknown } | undefined)?.content;
  if (!REACTION_CONTENTS.includes(content as ReactionContent)) {
    throw validationFailed({ resource: "Reaction", field: "content", code: "invalid" });
  }
  return content as ReactionContent;
}

/** Reactions on `target`; `area` is the permission they need (issues for issues and comments, pulls for line comments). */
export function reactionRoutes(
  deps: RouteDeps,
  template: string,
  target: (ctx: RouteContext) => { reactions: Reaction[] },
  area: "issues" | "pulls" = "issues",
): Route[] {
  return [
    {
      method: "GET",
      template,
      needs: [area, "read"],
      query: ["content", ...PAGING],
      handle: (ctx) => {
        const content = ctx.url.searchParams.get("content");
        const list = target(ctx).reactions.filter((r) => content === null || r.content === content);
        const page = paginate(list, ctx.url);
        return { status: 200, body: page.items.map((r) => deps.render.reaction(r)), link: page.link };
      },
    },
    {
      method: "POST",
      template,
      needs: [area, "write"],
      handle: (ctx) => {
        const { reaction, created } = deps.model.react(target(ctx), ctx.grant.user, reactionInput(ctx.body));
        return ok(deps.render.reaction(reaction), created ? 201 : 200);
      },
    },
  ];
}

/** GitHub's address ranges (`GET /meta`, read by the thopter's firewall): here the one host the peer listens on. */
function metaBody(url: URL) {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const ranges = [`${host}/${host.includes(":") ? 128 : 32}`];
  return { verifiable_password_authentication: false, api: ranges, git: ranges, web: ranges, packages: ranges };
}

export function routes(deps: RouteDeps): Route[] {
  const { model, render } = deps;
  return [
    { method: "GET", template: "/rate_limit", free: true, handle: (ctx) => rateLimitBody(deps, ctx.token) },
    { method: "GET", template: "/meta", anonymous: true, handle: (ctx) => ok(metaBody(ctx.url)) },
    {
      method: "GET",
      template: "/user",
      handle: (ctx) => {
        // An App's bot has no "authenticated user"; GitHub refuses installation tokens here.
        if (ctx.grant.installationId !== undefined) throw forbiddenFor(ctx.grant);
        return ok(render.authenticatedUser(ctx.grant.user));
      },
    },
    {
      method: "GET",
      template: "/users/{username}",
      handle: (ctx) => {
        const user = model.users.get(ctx.params.username ?? "");
        if (!user) throw notFound();
        return ok(render.authenticatedUser(user));
      },
    },
    {
      method: "GET",
      template: "/repos/{owner}/{repo}",
      needs: ["metadata", "read"],
      handle: (ctx) => ok(render.repository(ctx.repo)),
    },
    {
      method: "GET",
      template: "/repos/{owner}/{repo}/issues",
      needs: ["issues", "read"],
      query: ["state", "sort", "direction", "since", ...PAGING],
      handle: (ctx) => {
        const q = ctx.url.searchParams;
        const state = q.get("state") ?? "open";
        const from = since(ctx.url);
        const sort = q.get("sort") ?? "created";
        const key = (i: Issue) =>
          sort === "updated" ? i.updatedAt.getTime() : sort === "comments" ? i.commentCount : i.createdAt.getTime();
        const list = [...ctx.repo.issues.values()].filter(
          (i) => (state === "all" || i.state === state) && (!from || i.updatedAt >= from),
        );
        const sorted = order(list, key, q.get("direction") === "asc" ? "asc" : "desc", (i) => i.number);
        const page = paginate(sorted, ctx.url);
        return { status: 200, body: page.items.map((i) => render.issue(i)), link: page.link };
      },
    },
    {
      method: "GET",
      template: "/repos/{owner}/{repo}/issues/comments",
      needs: ["issues", "read"],
      query: ["sort", "direction", "since", ...PAGING],
      handle: (ctx) => {
        const from = since(ctx.url);
        const list = [...ctx.repo.comments.values()].filter((c) => !from || c.updatedAt >= from);
        const page = paginate(commentOrder(list, ctx.url), ctx.url);
        return { status: 200, body: page.items.map((c) => render.comment(c)), link: page.link };
      },
    },
    {
      method: "GET",
      template: "/repos/{owner}/{repo}/issues/comments/{comment_id}",
      needs: ["issues", "read"],
      handle: (ctx) => ok(render.comment(commentOf(ctx))),
    },
    {
      method: "PATCH",
      template: "/repos/{owner}/{repo}/issues/comments/{comment_id}",
      needs: ["issues", "write"],
      handle: (ctx) => {
        // Write access to issues lets a token edit anyone's comment, as on GitHub.
        const comment = commentOf(ctx);
        return ok(render.comment(model.editComment(comment.id, bodyText(ctx.body, "body", "IssueComment"))));
      },
    },
    ...reactionRoutes(deps, "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", commentOf),
    {
      method: "GET",
      template: "/repos/{owner}/{repo}/issues/{issue_number}",
      needs: ["issues", "read"],
      handle: (ctx) => ok(render.issue(issueOf(deps, ctx))),
    },
    {
      method: "GET",
      template: "/repos/{owner}/{repo}/issues/{issue_number}/comments",
      needs: ["issues", "read"],
      query: ["since", ...PAGING],
      handle: (ctx) => {
        const issue = issueOf(deps, ctx);
        const from = since(ctx.url);
        const list = [...ctx.repo.comments.values()].filter(
          (c) => c.issueNumber === issue.number && (!from || c.updatedAt >= from),
        );
        const page = paginate(list, ctx.url);
        return { status: 200, body: page.items.map((c) => render.comment(c)), link: page.link };
      },
    },
    {
      method: "POST",
      template: "/repos/{owner}/{repo}/issues/{issue_number}/comments",
      needs: ["issues", "write"],
      handle: (ctx) => {
        const issue = issueOf(deps, ctx);
        const body = bodyText(ctx.body, "body", "IssueComment");
        const comment = model.addComment(issue, {
          body,
          author: ctx.grant.user.login,
          association: associationOf(ctx.repo, ctx.grant),
        });
        return ok(render.comment(comment), 201);
      },
    },
    ...reactionRoutes(deps, "/repos/{owner}/{repo}/issues/{issue_number}/reactions", (ctx) => issueOf(deps, ctx)),
    ...pullRoutes(deps),
    ...reviewRoutes(deps),
  ];
}

function rateLimitBody(deps: RouteDeps, token: string): RouteResult {
  const core = deps.rateLimit(token);
  const idle = { limit: 0, remaining: 0, used: 0, reset: core.reset };
  return ok({
    resources: {
      core,
      search: { ...idle, limit: 30, remaining: 30 },
      graphql: { ...idle, limit: 5000, remaining: 5000 },
      integration_manifest: { ...idle, limit: 5000, remaining: 5000 },
      code_search: { ...idle, limit: 10, remaining: 10 },
    },
    rate: core,
  });
}
