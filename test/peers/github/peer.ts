import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Logger, pino } from "pino";
import { Accounting, type PeerStats } from "./accounting.js";
import { Apps } from "./app.js";
import { appRoutes } from "./app-routes.js";
import { issuesPermissionsOf, Tokens, WRITE_PERMISSIONS } from "./auth.js";
import { type FaultSpec, Faults } from "./faults.js";
import { allObjects, createBareRepo, type LogEntry, listBranches, logOf, readFileAt } from "./git.js";
import { serveGitRemote } from "./git-remote.js";
import { type CommentInput, type IssueInput, Model, type Repo } from "./model.js";
import { describeViolations, GithubSpec, type SpecViolation } from "./openapi.js";
import type { GithubPeerOptions, RepoSeed, RequestLogEntry } from "./peer-options.js";
import { Renderer } from "./render.js";
import { requestId } from "./respond.js";
import { RestApi } from "./rest-api.js";
import { ReviewControls } from "./review-controls.js";
import { ReviewActions } from "./review-model.js";
import { routes } from "./routes.js";
import { WebPages } from "./web.js";
import { type Delivery, WebhookSender } from "./webhooks.js";

const BRANCH_PREFIX = "refs/heads/thopter/";

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
  private readonly render: Renderer;
  private readonly webhooks: WebhookSender;
  private readonly rest: RestApi;
  private readonly logger: Logger;
  private readonly accounting: Accounting;
  readonly reviews: ReviewControls; // reviews, line comments, check runs, statuses

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
    const actions = new ReviewActions(this.model, (repo) => this.gitDir(repo.fullName));
    this.reviews = new ReviewControls(this.model, actions, this.render);
    const deps = {
      model: this.model,
      render: this.render,
      reviews: actions,
      gitDir: (repo: Repo) => this.gitDir(repo.fullName),
      rateLimit: (token: string) => this.accounting.rateLimit(token),
    };
    const repoOf = (fullName: string) => this.render.repository(this.model.repo(fullName));
    this.rest = new RestApi({
      spec: this.spec,
      model: this.model,
      tokens: this.tokens,
      apps: this.apps,
      faults: this.faults,
      accounting: this.accounting,
      violations: this.violations,
      routes: [...routes(deps), ...appRoutes(this.apps, this.render, url, repoOf)],
      web: new WebPages(this.model, (repo) => this.gitDir(repo.fullName)),
    });
    server.on("request", (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res));
  }

  static async start(options: GithubPeerOptions = {}): Promise<GithubPeer> {
    const root = await mkdtemp(join(tmpdir(), "github-peer-"));
    const server = createServer();
    const address = options.address ?? { listen: "127.0.0.1", advertise: "127.0.0.1" };
    await new Promise<void>((resolve) => server.listen(0, address.listen, resolve));
    const { port } = server.address() as AddressInfo;
    return new GithubPeer(`http://${address.advertise}:${port}`, root, server, options);
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
    this.tokens.check(seed.issuesToken, bot, issuesPermissionsOf(seed.issuesTokenReadsChecks));
    this.tokens.check(seed.coderToken, bot, WRITE_PERMISSIONS);
    const repo = this.model.addRepo(fullName, defaultBranch);
    this.tokens.add(seed.issuesToken, bot, fullName, issuesPermissionsOf(seed.issuesTokenReadsChecks));
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

  /** Every object in the bare repository, sorted (also those no ref names). */
  objects(repo: string): Promise<string[]> {
    return allObjects(this.gitDir(this.model.repo(repo).fullName));
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

  /** From now on, issue, comment and review events are also POSTed to `url`, signed with `secret`. */
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
    if (this.violations.length > 0) throw new Error(describeViolations(this.violations));
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
    // The peer's clock, so a client can tell how far off its own is (Octokit's App auth corrects JWTs by it).
    res.setHeader("date", this.model.now().toUTCString());
    let status = 500;
    try {
      status = url.pathname.startsWith("/git/")
        ? await serveGitRemote(req, res, url, {
            model: this.model,
            tokens: this.tokens,
            faults: this.faults,
            projectRoot: join(this.root, "git"),
            logger: this.logger,
          })
        : await this.rest.handle(req, res, url, id);
    } catch (error) {
      this.logger.error({ err: error, method, path: url.pathname }, "github peer failed to answer");
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("GitHub peer internal error\n");
    }
    const ms = Math.round((performance.now() - started) * 10) / 10;
    this.requestLog.push({ method, path: url.pathname + url.search, status, ms });
    this.logger.debug({ method, path: url.pathname, status, ms }, "github peer request");
  }
}
