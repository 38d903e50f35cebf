import { notFound, validationFailed } from "./errors.js";
import { type CommitEntry, commitsBetween, compare, resolveRef } from "./git.js";
import type { Pull, Repo } from "./model.js";
import { paginate } from "./paginate.js";
import type { Renderer } from "./render.js";
import {
  associationOf,
  bodyText,
  ok,
  PAGING,
  type Route,
  type RouteContext,
  type RouteDeps,
  type RouteResult,
} from "./route-kit.js";

/** `GET|POST /repos/{owner}/{repo}/pulls`: draft pull requests between branches of the real git repository. */
export function pullRoutes(deps: RouteDeps): Route[] {
  return [
    {
      method: "GET",
      template: "/repos/{owner}/{repo}/pulls",
      needs: ["pulls", "read"],
      query: ["state", "head", "base", ...PAGING],
      handle: (ctx) => listPulls(deps, ctx),
    },
    {
      method: "GET",
      template: "/repos/{owner}/{repo}/pulls/{pull_number}/commits",
      needs: ["pulls", "read"],
      query: PAGING,
      handle: (ctx) => listCommits(deps, ctx),
    },
    {
      method: "POST",
      template: "/repos/{owner}/{repo}/pulls",
      needs: ["pulls", "write"],
      handle: (ctx) => createPull(deps, ctx),
    },
  ];
}

async function createPull(deps: RouteDeps, ctx: RouteContext): Promise<RouteResult> {
  const input = (ctx.body ?? {}) as {
    title?: unknown;
    body?: unknown;
    head?: unknown;
    base?: unknown;
    draft?: unknown;
  };
  const repo = ctx.repo;
  if (typeof input.head !== "string" || input.head === "") {
    throw validationFailed({ resource: "PullRequest", field: "head", code: "missing_field" });
  }
  if (typeof input.base !== "string" || input.base === "") {
    throw validationFailed({ resource: "PullRequest", field: "base", code: "missing_field" });
  }
  const title = bodyText(input, "title", "PullRequest");
  const head = input.head.includes(":") ? input.head.slice(input.head.indexOf(":") + 1) : input.head;
  const headOwner = input.head.includes(":") ? input.head.slice(0, input.head.indexOf(":")) : repo.owner.login;
  const gitDir = deps.gitDir(repo);
  const headSha = headOwner === repo.owner.login ? await resolveRef(gitDir, `refs/heads/${head}`) : undefined;
  if (!headSha) throw validationFailed({ resource: "PullRequest", field: "head", code: "invalid" });
  const baseSha = await resolveRef(gitDir, `refs/heads/${input.base}`);
  if (!baseSha) throw validationFailed({ resource: "PullRequest", field: "base", code: "invalid" });
  const stats = await compare(gitDir, baseSha, headSha);
  // Checked after the last await, so two concurrent creations cannot both pass.
  const open = [...repo.issues.values()].find((i) => i.pull?.head === head && i.state === "open");
  if (open) {
    throw validationFailed({
      resource: "PullRequest",
      code: "custom",
      message: `A pull request already exists for ${repo.owner.login}:${head}.`,
    });
  }
  if (stats.commits === 0) {
    throw validationFailed({
      resource: "PullRequest",
      code: "custom",
      message: `No commits between ${input.base} and ${head}`,
    });
  }
  const pull: Pull = {
    id: deps.model.nextId("pull"),
    head,
    headSha,
    base: input.base,
    baseSha,
    draft: input.draft === true,
    ...stats,
  };
  const issue = deps.model.createIssue(
    repo,
    {
      title,
      body: typeof input.body === "string" ? input.body : "",
      author: ctx.grant.user.login,
      association: associationOf(repo, ctx.grant),
    },
    pull,
  );
  return ok(deps.render.pull(issue, true), 201);
}

function listPulls(deps: RouteDeps, ctx: RouteContext): RouteResult {
  const state = ctx.url.searchParams.get("state") ?? "open";
  const head = ctx.url.searchParams.get("head");
  const base = ctx.url.searchParams.get("base");
  const pulls = [...ctx.repo.issues.values()]
    .filter((i) => i.pull && (state === "all" || i.state === state))
    .filter((i) => head === null || `${ctx.repo.owner.login}:${i.pull!.head}` === head)
    .filter((i) => base === null || i.pull!.base === base)
    .reverse();
  const page = paginate(pulls, ctx.url);
  return { status: 200, body: page.items.map((i) => deps.render.pull(i, false)), link: page.link };
}

/** `GET …/pulls/{n}/commits`: the head's commits the base lacks, oldest first, at most 250 (as GitHub caps it). */
async function listCommits(deps: RouteDeps, ctx: RouteContext): Promise<RouteResult> {
  const issue = deps.model.issue(ctx.repo, Number(ctx.params.pull_number));
  if (!issue?.pull) throw notFound();
  const head = await deps.reviews.headOf(issue);
  const commits = await commitsBetween(deps.gitDir(ctx.repo), issue.pull.baseSha, head, 250);
  const page = paginate(commits, ctx.url);
  return { status: 200, body: page.items.map((c) => commitJson(deps.render, ctx.repo, c)), link: page.link };
}

/** A `commit` as GitHub lists it; the author is a git identity, not matched to an account (`author: null`). */
function commitJson(render: Renderer, repo: Repo, c: CommitEntry): Record<string, unknown> {
  const api = render.repoApi(repo);
  const person = { name: c.authorName, email: c.authorEmail, date: c.date };
  return {
    url: `${api}/commits/${c.sha}`,
    sha: c.sha,
    node_id: Buffer.from(`Commit:${c.sha}`).toString("base64"),
    html_url: `${render.repoWeb(repo)}/commit/${c.sha}`,
    comments_url: `${api}/commits/${c.sha}/comments`,
    commit: {
      url: `${api}/git/commits/${c.sha}`,
      author: person,
      committer: person,
      message: c.message,
      comment_count: 0,
      tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
    },
    author: null,
    committer: null,
    parents: c.parents.map((sha) => ({ sha, url: `${api}/commits/${sha}` })),
  };
}
