import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Logger, pino } from "pino";
import { Accounting, type Cost, type PeerStats, type TokenStats } from "./accounting.js";
import { type App, Apps } from "./app.js";
import { appRoutes } from "./app-routes.js";
import { allows, canSee, type Grant, ISSUES_PERMISSIONS, Tokens, WRITE_PERMISSIONS } from "./auth.js";
import { errorBody, forbiddenFor, HttpError, notFound, PRIMARY_LIMIT_DOCS, REST_DOCS } from "./errors.js";
import { type FaultSpec, Faults } from "./faults.js";
import { createBareRepo, type LogEntry, listBranches, logOf, readFileAt } from "./git.js";
import { serveGit } from "./git-http.js";
import { type Association, type CommentInput, type IssueInput, Model, type Repo } from "./model.js";
import { GithubSpec, type SpecViolation, templatePattern } from "./openapi.js";
import { iso, Renderer } from "./render.js";
import { type Route, type RouteResult, routes } from "./routes.js";
import { type Delivery, WebhookSender } from "./webhooks.js";

export interface GithubPeerOptions {
  /** Clock for every timestamp the peer writes (default: the real clock). */
  now?: () => Date;
  /** Primary rate limit per token and hour (default 5000, like a personal access token). */
  rateLimit?: number;
  /** pino logger (default: silent unless GITHUB_PEER_LOG names a level). Tokens are never logged. */
  logger?: Logger;
}

export interface RepoSeed {
  defaultBranch?: string;
  /** Files of the initial commit (default: a README). */
  files?: Record<string, string>;
  /** Fine-grained token that may read and write issues, comments and reactions only. */
  issuesToken: string;
  /** Fine-grained token that may also push (only `thopter/*` branches) and open pull requests. */
  coderToken: string;
  /** The user both tokens belong to. */
  bot: { login: string };
}

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  ms: number;
}

const BRANCH_PREFIX = "refs/heads/thopter/";

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function requestId(): string {
  return randomBytes(10)
    .toString("hex")
    .toUpperCase()
    .replace(/(.{4})(.{4})(.{4})(.{4})(.{4})/, "$1:$2:$3:$4:$5");
}

/**
 * An offline api.github.com + github.com git remote for tests. Every REST request and response is validated against
 * GitHub's OpenAPI description; differences collect in `violations` (call `assertClean()` in afterEach).
 */
export class GithubPeer {
  readonly violations: SpecViolation[] = [];
  readonly requestLog: RequestLogEntry[] = [];
  private readonly spec = GithubSpec.load();
  private readonly model: Model;
  private readonly tokens: Tokens;
  /** GitHub Apps and their installations (`createApp`, `installApp`); set `apps.tokenLifetimeMs` to expire sooner. */
  readonly apps: Apps;
  private readonly faults = new Faults();
  private readonly validated = new Set<string>();
  private readonly render: Renderer;
  private readonly webhooks: WebhookSender;
  private readonly table: { route: Route; regex: RegExp; names: string[]; operationId: string }[];
  private readonly logger: Logger;
  private readonly accounting: Accounting;

  private constructor(
    /** REST base URL (use as GITHUB_API_URL). */
    readonly url: string,
    private readonly root: string,
    private readonly server: Server,
    options: GithubPeerOptions,
  ) {
    const clock = options.now ?? (() => new Date());
    this.model = new Model(clock);
    this.tokens = new Tokens(() => this.model.now());
    this.apps = new Apps(this.model, this.tokens);
    this.accounting = new Accounting(options.rateLimit ?? 5000, () => this.model.now());
    this.logger = options.logger ?? pino({ name: "github-peer", level: process.env.GITHUB_PEER_LOG ?? "silent" });
    this.render = new Renderer(url, (repo) => this.gitUrl(repo.fullName));
    this.webhooks = new WebhookSender(this.render, (delivery) => this.checkDelivery(delivery));
    this.model.onEvent((event) => this.webhooks.send(event));
    const deps = {
      model: this.model,
      render: this.render,
      gitDir: (repo: Repo) => this.gitDir(repo.fullName),
      rateLimit: (token: string) => this.accounting.rateLimit(token),
    };
    const repoOf = (fullName: string) => this.render.repository(this.model.repo(fullName));
    this.table = [...routes(deps), ...appRoutes(this.apps, this.render, url, repoOf)].map((route) => ({
      route,
      ...templatePattern(route.template),
      operationId: this.spec.operationId(route),
    }));
    server.on("request", (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res));
  }

  static async start(options: GithubPeerOptions = {}): Promise<GithubPeer> {
    const root = await mkdtemp(join(tmpdir(), "github-peer-"));
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return new GithubPeer(`http://127.0.0.1:${port}`, root, server, options);
  }

  async close(): Promise<void> {
    await this.webhooks.settled();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.root, { recursive: true, force: true });
  }

  // ---- seeding -------------------------------------------------------------------------------------------------

  /** Creates the repository (a real bare git repository with one commit of `files`) and its bot's two tokens. */
  async addRepo(fullName: string, seed: RepoSeed): Promise<void> {
    const defaultBranch = seed.defaultBranch ?? "main";
    const bot = this.model.user(seed.bot.login);
    if (seed.issuesToken === seed.coderToken) throw new Error("GitHub peer: issuesToken and coderToken must differ");
    this.tokens.check(seed.issuesToken, bot, ISSUES_PERMISSIONS);
    this.tokens.check(seed.coderToken, bot, WRITE_PERMISSIONS);
    const repo = this.model.addRepo(fullName, defaultBranch);
    this.tokens.add(seed.issuesToken, bot, fullName, ISSUES_PERMISSIONS);
    this.tokens.add(seed.coderToken, bot, fullName, WRITE_PERMISSIONS);
    await createBareRepo(
      this.gitDir(fullName),
      fullName,
      {
        files: seed.files ?? { "README.md": `# ${repo.name}\n` },
        branch: defaultBranch,
        author: { name: repo.owner.login, email: `${repo.owner.id}+${repo.owner.login}@users.noreply.github.com` },
      },
      { restrictedUser: bot.login, allowedPrefix: BRANCH_PREFIX },
    );
  }

  /** A user; with `token`, a human's token that may do anything in every repository (no branch rule). */
  addUser(login: string, options: { token?: string } = {}): void {
    const user = this.model.user(login);
    if (options.token) this.tokens.add(options.token, user, "all", WRITE_PERMISSIONS);
  }

  /** Opens an issue as `author` (and delivers `issues` / `opened`); returns the REST issue object. */
  createIssue(repo: string, input: IssueInput): Record<string, unknown> {
    return this.render.issue(this.model.createIssue(this.model.repo(repo), input));
  }

  /** Comments as `author` (and delivers `issue_comment` / `created`); returns the REST comment object. */
  addComment(repo: string, issueNumber: number, input: CommentInput): Record<string, unknown> {
    const issue = this.model.issue(this.model.repo(repo), issueNumber);
    if (!issue) throw new Error(`GitHub peer: ${repo} has no issue #${issueNumber}`);
    return this.render.comment(this.model.addComment(issue, input));
  }

  /** Edits a comment (bumps `updated_at`, delivers `issue_comment` / `edited`). */
  editComment(id: number, body: string): Record<string, unknown> {
    return this.render.comment(this.model.editComment(id, body));
  }

  deleteComment(id: number): void {
    this.model.deleteComment(id);
  }

  // ---- readers ---------------------------------------------------------------------------------------------------

  issue(repo: string, issueNumber: number): Record<string, unknown> | undefined {
    const issue = this.model.issue(this.model.repo(repo), issueNumber);
    return issue && this.render.issue(issue);
  }

  /** Comments on one issue, oldest first, as the REST API shows them. */
  comments(repo: string, issueNumber: number): Record<string, unknown>[] {
    return [...this.model.repo(repo).comments.values()]
      .filter((c) => c.issueNumber === issueNumber)
      .map((c) => this.render.comment(c));
  }

  /** Reactions on an issue (`{ issue: n }`) or a comment (`{ comment: id }`). */
  reactions(repo: string, target: { issue: number } | { comment: number }): Record<string, unknown>[] {
    const r = this.model.repo(repo);
    const on = "issue" in target ? r.issues.get(target.issue) : r.comments.get(target.comment);
    if (!on) throw new Error(`GitHub peer: ${repo} has no ${JSON.stringify(target)}`);
    return on.reactions.map((reaction) => this.render.reaction(reaction));
  }

  /** Pull requests, newest first, in the full single-PR shape. */
  pulls(repo: string): Record<string, unknown>[] {
    return [...this.model.repo(repo).issues.values()]
      .filter((i) => i.pull)
      .reverse()
      .map((i) => this.render.pull(i, true));
  }

  branches(repo: string): Promise<string[]> {
    return listBranches(this.gitDir(this.model.repo(repo).fullName));
  }

  /** A file at `ref` in the bare repository; undefined when the ref or path does not exist. */
  readFile(repo: string, ref: string, path: string): Promise<string | undefined> {
    return readFileAt(this.gitDir(this.model.repo(repo).fullName), ref, path);
  }

  /** Commits reachable from `ref`, newest first. */
  log(repo: string, ref: string): Promise<LogEntry[]> {
    return logOf(this.gitDir(this.model.repo(repo).fullName), ref);
  }

  /** The clone URL (smart HTTP, served by `git http-backend`); authenticate as `x-access-token:<token>`. */
  gitUrl(repo: string): string {
    return `${this.url}/git/${repo}.git`;
  }

  // ---- test controls ---------------------------------------------------------------------------------------------

  /** Answers the next matching request(s) with a 500/502 or a secondary-rate-limit 403/429. */
  inject(fault: FaultSpec): void {
    this.faults.add(fault);
  }

  /** Injected faults not yet used. */
  pendingFaults(): number {
    return this.faults.remaining();
  }

  /** From now on, issue and comment events are also POSTed to `url`, signed with `secret`. */
  deliverTo(url: string, secret: string): void {
    this.webhooks.deliverTo(url, secret);
  }

  get deliveries(): readonly Delivery[] {
    return this.webhooks.deliveries;
  }

  /** Waits until every webhook delivery made so far has been answered. */
  deliveriesSettled(): Promise<void> {
    return this.webhooks.settled();
  }

  stats(): PeerStats {
    return this.accounting.stats();
  }

  resetStats(): void {
    this.accounting.resetStats();
  }

  /** Returns the violations recorded so far and forgets them (for tests that provoke them on purpose). */
  takeViolations(): SpecViolation[] {
    return this.violations.splice(0);
  }

  /** Throws an error listing every request, response or delivery that differed from GitHub's description. */
  assertClean(): void {
    if (this.violations.length === 0) return;
    const lines = this.violations.map(
      (v) =>
        `- ${v.direction} ${v.method} ${v.path}${v.status ? ` → ${v.status}` : ""} (${v.operation}):\n    ${v.errors.join("\n    ")}`,
    );
    throw new Error(`GitHub peer: ${this.violations.length} OpenAPI violation(s):\n${lines.join("\n")}`);
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  private gitDir(fullName: string): string {
    return join(this.root, "git", `${fullName}.git`);
  }

  private checkDelivery(delivery: Delivery): void {
    const errors = this.spec.validateWebhook(delivery.schema, delivery.payload);
    if (errors.length > 0) {
      this.violations.push({
        operation: delivery.schema,
        method: "POST",
        path: "(webhook delivery)",
        direction: "webhook",
        errors,
      });
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const id = requestId();
    res.setHeader("x-github-request-id", id);
    let status = 500;
    try {
      status = url.pathname.startsWith("/git/")
        ? await this.handleGit(req, res, url)
        : await this.handleRest(req, res, url, id);
    } catch (error) {
      this.logger.error({ err: error, method, path: url.pathname }, "github peer failed to answer");
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("GitHub peer internal error\n");
    }
    const ms = Math.round((performance.now() - started) * 10) / 10;
    this.requestLog.push({ method, path: url.pathname + url.search, status, ms });
    this.logger.debug({ method, path: url.pathname, status, ms }, "github peer request");
  }

  private send(res: ServerResponse, status: number, headers: Record<string, string>, body?: string): number {
    res.writeHead(status, {
      server: "github.com",
      // The peer's clock, so a client can tell how far off its own is (Octokit's App auth corrects JWTs by it).
      date: this.model.now().toUTCString(),
      "x-github-api-version-selected": "2022-11-28",
      "x-github-media-type": "github.v3; format=json",
      ...headers,
    });
    res.end(body);
    return status;
  }

  private sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): number {
    return this.send(
      res,
      status,
      { "content-type": "application/json; charset=utf-8", ...headers },
      JSON.stringify(body),
    );
  }

  private async handleRest(req: IncomingMessage, res: ServerResponse, url: URL, id: string): Promise<number> {
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    const found = this.table
      .map((entry) => ({ entry, match: entry.route.method === method ? entry.regex.exec(url.pathname) : null }))
      .find((candidate) => candidate.match);
    if (!found?.match) return this.unknownRoute(res, method, url);
    const { route, names, operationId } = found.entry;
    const key = `${method} ${route.template}`;
    const params: Record<string, string> = {};
    names.forEach((name, i) => {
      params[name] = decodeURIComponent(found.match?.[i + 1] ?? "");
    });
    const docs = String((this.spec.operation(route).externalDocs as { url?: string } | undefined)?.url ?? REST_DOCS);

    const bearer = Tokens.fromApiHeader(req.headers.authorization);
    let app: App | undefined;
    if (route.app) {
      try {
        app = this.apps.authenticate(bearer ?? "");
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        this.accounting.count(key, undefined, "free");
        return this.sendJson(res, 401, errorBody(401, error.message, error.documentationUrl ?? REST_DOCS));
      }
    }
    // An App's calls are accounted under the App (each JWT differs); `grant` is its bot, with no repository.
    const token = app ? `app:${app.id}` : bearer;
    const grant = app ? Apps.grantOf(app) : bearer ? this.tokens.get(bearer) : undefined;
    if (!token || !grant) {
      this.accounting.count(key, undefined, "free");
      // Without credentials the peer's repositories are private ones: GitHub hides them behind a 404.
      if (!token && route.needs) return this.sendJson(res, 404, errorBody(404, "Not Found", docs));
      const message = token ? "Bad credentials" : "Requires authentication";
      return this.sendJson(res, 401, errorBody(401, message, REST_DOCS));
    }

    const fault = this.faults.take(method, url.pathname, id);
    if (fault) {
      this.accounting.count(key, token, "counted");
      return this.send(res, fault.status, { ...this.accounting.headers(token), ...fault.headers }, fault.body);
    }
    if (!route.free && this.accounting.rateLimit(token).remaining === 0) {
      this.accounting.count(key, token, "free");
      const message =
        `API rate limit exceeded for user ID ${grant.user.id}. If you reach out to GitHub Support for help, ` +
        `please include the request ID ${id} and timestamp ${iso(this.model.now())}.`;
      return this.sendJson(res, 403, errorBody(403, message, PRIMARY_LIMIT_DOCS), this.accounting.headers(token));
    }

    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        this.accounting.count(key, token, route.free ? "free" : "counted");
        return this.sendJson(res, 400, errorBody(400, "Problems parsing JSON", docs), this.accounting.headers(token));
      }
    }
    const violation = (direction: "request" | "response", errors: string[], status?: number) => {
      if (errors.length === 0) return;
      this.violations.push({
        operation: operationId,
        method,
        path: url.pathname + url.search,
        direction,
        status,
        errors,
      });
    };
    const defined = this.spec.queryParameters(route);
    const unhandled = [...url.searchParams.keys()]
      .filter((name) => defined.includes(name) && !route.query?.includes(name))
      .map(
        (name) => `the GitHub peer does not implement query parameter ${name}; add it to test/peers/github/routes.ts`,
      );
    violation("request", [...this.spec.validateRequest(route, params, url.searchParams, body), ...unhandled]);

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
      const errors = this.spec.validateResponse(route, result.status, result.body);
      violation("response", errors, result.status);
      if (errors.length === 0) this.validated.add(checked);
    }

    return this.sendResult(req, res, { key, token, cost: route.free ? "free" : "counted" }, result, json, digest);
  }

  /** Real GitHub answers 404 too, but a client calling it is either wrong or needs a route the peer lacks. */
  private unknownRoute(res: ServerResponse, method: string, url: URL): number {
    const known = this.spec.findOperation(method, url.pathname);
    this.violations.push({
      operation: known ? this.spec.operationId(known) : "(none)",
      method,
      path: url.pathname + url.search,
      direction: "request",
      errors: [
        known
          ? `the GitHub peer does not implement ${method} ${known.template}; add it to test/peers/github/routes.ts`
          : `GitHub's API has no operation ${method} ${url.pathname}`,
      ],
    });
    this.accounting.count(`${method} (unknown route)`, undefined, "free");
    return this.sendJson(res, 404, errorBody(404, "Not Found", REST_DOCS));
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
        this.accounting.count(key, token, "304");
        const { "content-type": _, ...rest } = headers;
        return this.send(res, 304, { ...rest, ...this.accounting.headers(token) });
      }
    }
    this.accounting.count(key, token, call.cost);
    return this.send(res, result.status, { ...headers, ...this.accounting.headers(token) }, json);
  }

  /** The repository a repository-scoped route acts on: 404 if the token cannot see it, 403 if it lacks permission. */
  private authorize(route: Route, params: Record<string, string>, grant: Grant): Repo | undefined {
    if (!route.needs) return undefined;
    const fullName = `${params.owner}/${params.repo}`;
    const repo = this.model.repos.get(fullName);
    if (!repo || !canSee(grant, fullName)) throw notFound();
    if (!allows(grant, ...route.needs)) throw forbiddenFor(grant);
    return repo;
  }

  private async handleGit(req: IncomingMessage, res: ServerResponse, url: URL): Promise<number> {
    const match = /^\/git\/([^/]+)\/([^/]+)\.git(\/.*)$/.exec(url.pathname);
    const fullName = match ? `${match[1]}/${match[2]}` : "";
    const repo = this.model.repos.get(fullName);
    const token = Tokens.fromBasicHeader(req.headers.authorization);
    const grant = token ? this.tokens.get(token) : undefined;
    const text = (status: number, message: string, headers: Record<string, string> = {}) => {
      req.resume();
      return this.send(res, status, { "content-type": "text/plain; charset=utf-8", ...headers }, `${message}\n`);
    };
    if (!grant)
      return text(401, "Invalid username or token. Password authentication is not supported for Git operations.", {
        "www-authenticate": 'Basic realm="GitHub"',
      });
    if (!match || !repo || !canSee(grant, fullName)) return text(404, "Repository not found.");
    const fault = this.faults.take(req.method ?? "GET", url.pathname, String(res.getHeader("x-github-request-id")));
    if (fault) {
      req.resume();
      return this.send(res, fault.status, fault.headers, fault.body);
    }
    const service = match[3] ?? "";
    const push = url.searchParams.get("service") === "git-receive-pack" || service === "/git-receive-pack";
    if (!allows(grant, "contents", push ? "write" : "read")) {
      return text(403, `Permission to ${fullName}.git denied to ${grant.user.login}.`);
    }
    const result = await serveGit(req, res, {
      projectRoot: join(this.root, "git"),
      pathInfo: `/${fullName}.git${service}`,
      remoteUser: grant.user.login,
    });
    if (result.stderr.trim()) this.logger.debug({ repo: fullName, stderr: result.stderr }, "git http-backend stderr");
    if (service === "/git-receive-pack" && result.status === 200) repo.pushedAt = this.model.now();
    return result.status;
  }
}

/** Starts a GitHub peer on 127.0.0.1 (a free port) with its own temporary directory for git repositories. */
export function startGithubPeer(options?: GithubPeerOptions): Promise<GithubPeer> {
  return GithubPeer.start(options);
}

export type { Association, Delivery, FaultSpec, LogEntry, PeerStats, SpecViolation, TokenStats };
