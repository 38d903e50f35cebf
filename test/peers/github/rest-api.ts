import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Accounting, Cost } from "./accounting.js";
import { type App, Apps } from "./app.js";
import { allows, canSee, type Grant, Tokens } from "./auth.js";
import { errorBody, forbiddenFor, HttpError, notFound, PRIMARY_LIMIT_DOCS, REST_DOCS } from "./errors.js";
import type { Faults } from "./faults.js";
import type { Model, Repo } from "./model.js";
import { type GithubSpec, type SpecViolation, templatePattern } from "./openapi.js";
import { iso } from "./render.js";
import { readBody, send, sendJson } from "./respond.js";
import type { Route, RouteResult } from "./routes.js";
import type { WebPages } from "./web.js";

export interface RestApiDeps {
  spec: GithubSpec;
  model: Model;
  tokens: Tokens;
  apps: Apps;
  faults: Faults;
  accounting: Accounting;
  /** Where differences from GitHub's description are recorded (the peer's `violations`). */
  violations: SpecViolation[];
  routes: Route[];
  /** github.com's pages at the addresses `html_url`s name, for GETs no REST route matches. */
  web: WebPages;
}

/**
 * The REST half of the GitHub peer: matches a request to a route, authenticates and rate-limits it as GitHub does,
 * injects faults, validates request and response against the OpenAPI description, and answers with ETags and 304s.
 */
export class RestApi {
  private readonly table: { route: Route; regex: RegExp; names: string[]; operationId: string }[];
  /** Responses already validated (route, status, body digest): polling the same page stays cheap. */
  private readonly validated = new Set<string>();

  constructor(private readonly deps: RestApiDeps) {
    this.table = deps.routes.map((route) => ({
      route,
      ...templatePattern(route.template),
      operationId: deps.spec.operationId(route),
    }));
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL, id: string): Promise<number> {
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    const found = this.table
      .map((entry) => ({ entry, match: entry.route.method === method ? entry.regex.exec(url.pathname) : null }))
      .find((candidate) => candidate.match);
    if (!found?.match) {
      const page = method === "GET" ? await this.deps.web.page(url.pathname) : undefined;
      if (page) {
        const headers: Record<string, string> = { "content-type": page.contentType };
        if (page.location) headers.location = page.location;
        return send(res, page.status, headers, page.body);
      }
      return this.unknownRoute(res, method, url);
    }
    const { route, names, operationId } = found.entry;
    const key = `${method} ${route.template}`;
    const params: Record<string, string> = {};
    names.forEach((name, i) => {
      params[name] = decodeURIComponent(found.match?.[i + 1] ?? "");
    });
    const docs = String(
      (this.deps.spec.operation(route).externalDocs as { url?: string } | undefined)?.url ?? REST_DOCS,
    );

    if (route.anonymous) return this.answerAnonymous(route, { key, operationId, method, url }, res);
    const bearer = Tokens.fromApiHeader(req.headers.authorization);
    let app: App | undefined;
    if (route.app) {
      try {
        app = this.deps.apps.authenticate(bearer ?? "");
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        this.deps.accounting.count(key, undefined, "free");
        return sendJson(res, 401, errorBody(401, error.message, error.documentationUrl ?? REST_DOCS));
      }
    }
    // An App's calls are accounted under the App (each JWT differs); `grant` is its bot, with no repository.
    const token = app ? `app:${app.id}` : bearer;
    const grant = app ? Apps.grantOf(app) : bearer ? this.deps.tokens.get(bearer) : undefined;
    if (!token || !grant) {
      this.deps.accounting.count(key, undefined, "free");
      // Without credentials the peer's repositories are private ones: GitHub hides them behind a 404.
      if (!token && route.needs) return sendJson(res, 404, errorBody(404, "Not Found", docs));
      const message = token ? "Bad credentials" : "Requires authentication";
      return sendJson(res, 401, errorBody(401, message, REST_DOCS));
    }

    const fault = this.deps.faults.take(method, url.pathname, id);
    if (fault) {
      this.deps.accounting.count(key, token, "counted");
      return send(res, fault.status, { ...this.deps.accounting.headers(token), ...fault.headers }, fault.body);
    }
    if (!route.free && this.deps.accounting.rateLimit(token).remaining === 0) {
      this.deps.accounting.count(key, token, "free");
      const message =
        `API rate limit exceeded for user ID ${grant.user.id}. If you reach out to GitHub Support for help, ` +
        `please include the request ID ${id} and timestamp ${iso(this.deps.model.now())}.`;
      return sendJson(res, 403, errorBody(403, message, PRIMARY_LIMIT_DOCS), this.deps.accounting.headers(token));
    }

    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        this.deps.accounting.count(key, token, route.free ? "free" : "counted");
        return sendJson(res, 400, errorBody(400, "Problems parsing JSON", docs), this.deps.accounting.headers(token));
      }
    }
    const violation = (direction: "request" | "response", errors: string[], status?: number) => {
      if (errors.length === 0) return;
      this.deps.violations.push({
        operation: operationId,
        method,
        path: url.pathname + url.search,
        direction,
        status,
        errors,
      });
    };
    const defined = this.deps.spec.queryParameters(route);
    const unhandled = [...url.searchParams.keys()]
      .filter((name) => defined.includes(name) && !route.query?.includes(name))
      .map(
        (name) => `the GitHub peer does not implement query parameter ${name}; add it to test/peers/github/routes.ts`,
      );
    violation("request", [...this.deps.spec.validateRequest(route, params, url.searchParams, body), ...unhandled]);

    let result: RouteResult;
    try {
      const repo = this.authorize(route, params, grant);
      result = await route.handle({
        grant,
        token,
        app,
        params,
        url,
        body,
        get repo(): Repo {
          if (!repo) throw new Error(`GitHub peer: ${key} is not repository-scoped`);
          return repo;
        },
      });
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      result = {
        status: error.status,
        body: errorBody(error.status, error.message, error.documentationUrl ?? docs, error.errors),
      };
    }
    const json = result.body === undefined ? "" : JSON.stringify(result.body);
    const digest = createHash("sha1").update(json).digest("hex");
    // Identical bodies were already checked: polling the same page over and over stays cheap.
    const checked = `${key} ${result.status} ${digest}`;
    if (!this.validated.has(checked)) {
      const errors = this.deps.spec.validateResponse(route, result.status, result.body);
      violation("response", errors, result.status);
      if (errors.length === 0) this.validated.add(checked);
    }

    return this.sendResult(req, res, { key, token, cost: route.free ? "free" : "counted" }, result, json, digest);
  }

  /** A route anyone may call (GitHub's `/meta`): no token, no rate limit; its answer is still validated. */
  private async answerAnonymous(
    route: Route,
    call: { key: string; operationId: string; method: string; url: URL },
    res: ServerResponse,
  ): Promise<number> {
    this.deps.accounting.count(call.key, undefined, "free");
    const result = await route.handle({ url: call.url, params: {} } as unknown as Parameters<Route["handle"]>[0]);
    const errors = this.deps.spec.validateResponse(route, result.status, result.body);
    if (errors.length) {
      const { operationId: operation, method, url } = call;
      this.deps.violations.push({
        operation,
        method,
        path: url.pathname,
        direction: "response",
        status: result.status,
        errors,
      });
    }
    return sendJson(res, result.status, result.body);
  }

  /** Real GitHub answers 404 too, but a client calling it is either wrong or needs a route the peer lacks. */
  private unknownRoute(res: ServerResponse, method: string, url: URL): number {
    const known = this.deps.spec.findOperation(method, url.pathname);
    this.deps.violations.push({
      operation: known ? this.deps.spec.operationId(known) : "(none)",
      method,
      path: url.pathname + url.search,
      direction: "request",
      errors: [
        known
          ? `the GitHub peer does not implement ${method} ${known.template}; add it to test/peers/github/routes.ts`
          : `GitHub's API has no operation ${method} ${url.pathname}`,
      ],
    });
    this.deps.accounting.count(`${method} (unknown route)`, undefined, "free");
    return sendJson(res, 404, errorBody(404, "Not Found", REST_DOCS));
  }

  /** Sends a route's answer, or an empty 304 when the client already has this representation (a free request). */
  private sendResult(
    req: IncomingMessage,
    res: ServerResponse,
    call: { key: string; token: string; cost: Cost },
    result: RouteResult,
    json: string,
    digest: string,
  ): number {
    const { key, token } = call;
    const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
    if (result.link) headers.link = result.link;
    if (req.method === "GET" && result.status === 200) {
      // Strong validator over the representation, varying per token like GitHub's (Vary: Authorization).
      const etag = `"${createHash("sha256")
        .update(`${token}\n${digest}\n${result.link ?? ""}`)
        .digest("hex")}"`;
      headers.etag = etag;
      headers["cache-control"] = "private, max-age=60, s-maxage=60";
      headers.vary = "Accept, Authorization, Cookie, X-GitHub-OTP";
      const inm = String(req.headers["if-none-match"] ?? "");
      if (inm.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag)) {
        this.deps.accounting.count(key, token, "304");
        const { "content-type": _, ...rest } = headers;
        return send(res, 304, { ...rest, ...this.deps.accounting.headers(token) });
      }
    }
    this.deps.accounting.count(key, token, call.cost);
    return send(res, result.status, { ...headers, ...this.deps.accounting.headers(token) }, json);
  }

  /** The repository a repository-scoped route acts on: 404 if the token cannot see it, 403 if it lacks permission. */
  private authorize(route: Route, params: Record<string, string>, grant: Grant): Repo | undefined {
    if (!route.needs) return undefined;
    const fullName = `${params.owner}/${params.repo}`;
    const repo = this.deps.model.repos.get(fullName);
    if (!repo || !canSee(grant, fullName)) throw notFound();
    if (!allows(grant, ...route.needs)) throw forbiddenFor(grant);
    return repo;
  }
}
