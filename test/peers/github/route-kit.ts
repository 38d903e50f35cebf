import type { App } from "./app.js";
import type { Area, Grant, Level } from "./auth.js";
import { validationFailed } from "./errors.js";
import type { Association, Model, Repo } from "./model.js";
import type { Renderer } from "./render.js";
import type { ReviewActions } from "./review-model.js";

export interface RouteContext {
  grant: Grant;
  token: string;
  params: Record<string, string>;
  url: URL;
  body: unknown;
  /** Resolved from {owner}/{repo} when the template has them (the server checks the token can see it). */
  repo: Repo;
  /** The App whose JWT authenticated the call (routes with `app: true`). */
  app?: App;
}

export interface RouteResult {
  status: number;
  body: unknown;
  link?: string;
}

export interface Route {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Authenticated as a GitHub App (a JWT), not with a token. */
  app?: boolean;
  template: string;
  /** Permission needed on the repository; routes without one are not repository-scoped. */
  needs?: [Area, Exclude<Level, "none">];
  /** Does not count against the rate limit (like GET /rate_limit). */
  free?: boolean;
  /** Answered without any credentials (like GET /meta); the handler gets only `url`. */
  anonymous?: boolean;
  /** Query parameters the handler honours; others GitHub defines are reported, so no filter is silently ignored. */
  query?: readonly string[];
  handle(ctx: RouteContext): RouteResult | Promise<RouteResult>;
}

export interface RouteDeps {
  model: Model;
  render: Renderer;
  reviews: ReviewActions;
  gitDir(repo: Repo): string;
  rateLimit(token: string): { limit: number; remaining: number; used: number; reset: number };
}

/** The pagination parameters (see paginate.ts), honoured by every list route. */
export const PAGING = ["per_page", "page"] as const;

export const ok = (body: unknown, status = 200): RouteResult => ({ status, body });

export function bodyText(body: unknown, field: string, resource: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[field];
  if (typeof value !== "string" || value.length === 0)
    throw validationFailed({ resource, field, code: "missing_field" });
  if (value.length > 65536) {
    throw validationFailed({
      resource,
      field,
      code: "custom",
      message: `${field} is too long (maximum is 65536 characters)`,
    });
  }
  return value;
}

/** Association of a user acting through the API: the owner is OWNER, a token holder is a COLLABORATOR. */
export function associationOf(repo: Repo, grant: Grant): Association {
  return grant.user === repo.owner ? "OWNER" : "COLLABORATOR";
}

/** GitHub's `since` filter (ISO 8601); an unreadable value filters nothing, as on GitHub. */
export function since(url: URL): Date | undefined {
  const raw = url.searchParams.get("since");
  if (raw === null) return undefined;
  const date = new Date(raw);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function order<T>(
  items: T[],
  key: (item: T) => number,
  direction: "asc" | "desc",
  tie: (item: T) => number,
): T[] {
  const sign = direction === "asc" ? 1 : -1;
  return [...items].sort((a, b) => sign * (key(a) - key(b) || tie(a) - tie(b)));
}

/** A comment listing's order: ascending id without `sort` (GitHub then ignores `direction`), else by created/updated. */
export function commentOrder<T extends { id: number; createdAt: Date; updatedAt: Date }>(list: T[], url: URL): T[] {
  const sort = url.searchParams.get("sort");
  if (sort === null) return list;
  const direction = url.searchParams.get("direction") === "asc" ? "asc" : "desc";
  return order(
    list,
    (c) => (sort === "updated" ? c.updatedAt : c.createdAt).getTime(),
    direction,
    (c) => c.id,
  );
}
