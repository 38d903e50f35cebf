import { generateKeyPairSync, type KeyObject, randomBytes, verify } from "node:crypto";
import { type Area, type Grant, type Level, NO_PERMISSIONS, type Tokens } from "./auth.js";
import { HttpError, notFound, validationFailed } from "./errors.js";
import type { Model, User } from "./model.js";

/**
 * GitHub Apps as GitHub runs them: an App signs RS256 JWTs with its private key to act as itself, and mints
 * installation tokens (`ghs_…`) restricted to some of the installation's repositories and permissions, valid for an
 * hour (tests shorten it) and revocable. The JWT rules are GitHub's: `iss` the App ID, `iat` not in the future,
 * `exp` after now and at most 10 minutes after both now and `iat`; errors carry GitHub's messages (which Octokit's
 * clock-skew retry recognises).
 */

/** GitHub's permission names and levels, as in `app-permissions`. */
export type AppPermissions = Record<string, "read" | "write">;

export interface App {
  id: number;
  slug: string;
  publicKey: KeyObject;
  bot: User;
  owner: User;
  createdAt: Date;
}

export interface Installation {
  id: number;
  app: App;
  account: User;
  repos: Set<string>;
  permissions: AppPermissions;
  createdAt: Date;
}

/** Which peer areas each GitHub permission grants (permissions the peer has no routes for only show in answers). */
const AREAS: Record<string, Area> = {
  metadata: "metadata",
  issues: "issues",
  pull_requests: "pulls",
  contents: "contents",
  checks: "checks",
  statuses: "statuses",
};
const RANK = { read: 1, write: 2 } as const;
const MAX_JWT_SECONDS = 600;

const unauthorized = (message: string) =>
  new HttpError(
    401,
    message,
    undefined,
    "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app",
  );

export class Apps {
  private readonly apps = new Map<number, App>();
  private readonly installations = new Map<number, Installation>();
  /** How long minted installation tokens live; tests shorten it to see renewal. */
  tokenLifetimeMs = 60 * 60 * 1000;

  constructor(
    private readonly model: Model,
    private readonly tokens: Tokens,
  ) {}

  /** Registers an App; returns its ID and PKCS#1 private key, as the App's settings page gives them. */
  create(slug: string, owner: string): { appId: number; privateKey: string; slug: string; botLogin: string } {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const app: App = {
      id: this.model.nextId("user"),
      slug,
      publicKey,
      bot: this.model.user(`${slug}[bot]`),
      owner: this.model.user(owner),
      createdAt: this.model.now(),
    };
    this.apps.set(app.id, app);
    const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    return { appId: app.id, privateKey: pem, slug, botLogin: app.bot.login };
  }

  /** Installs the App on `repos` (all of one owner) with `permissions`; returns the installation ID. */
  install(appId: number, repos: string[], permissions: AppPermissions): number {
    const app = this.apps.get(appId);
    if (!app) throw new Error(`GitHub peer: no App ${appId}`);
    const owner = new Set(repos.map((r) => r.split("/")[0]!));
    if (owner.size !== 1) throw new Error("GitHub peer: an installation belongs to one account; name its repositories");
    const installation: Installation = {
      id: this.model.nextId("user"),
      app,
      account: this.model.user([...owner][0]!),
      repos: new Set(repos.map((r) => this.model.repo(r).fullName)),
      permissions,
      createdAt: this.model.now(),
    };
    this.installations.set(installation.id, installation);
    return installation.id;
  }

  /** Removes a repository from an installation (as the owner would in the App's settings). */
  uninstall(installationId: number, repo: string): void {
    this.installations.get(installationId)?.repos.delete(this.model.repo(repo).fullName);
  }

  /** What an App's JWT may do outside the App routes: nothing in any repository. */
  static grantOf(app: App): Grant {
    return { user: app.bot, repos: new Set(), permissions: NO_PERMISSIONS };
  }

  /** The App a `Bearer <JWT>` authenticates, or GitHub's 401 explaining why not. */
  authenticate(jwt: string): App {
    const [head, body, signature, ...rest] = jwt.split(".");
    const decode = (part: string | undefined) => JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8"));
    let header: { alg?: unknown };
    let claims: { iss?: unknown; iat?: unknown; exp?: unknown };
    try {
      header = decode(head);
      claims = decode(body);
    } catch {
      throw unauthorized("A JSON web token could not be decoded");
    }
    if (rest.length > 0 || header.alg !== "RS256") throw unauthorized("A JSON web token could not be decoded");
    const app = this.apps.get(Number(claims.iss));
    if (!app || !/^\d+$/.test(String(claims.iss))) throw unauthorized("'Issuer' claim ('iss') must be an Integer");
    const signed = Buffer.from(`${head}.${body}`);
    if (!verify("RSA-SHA256", signed, app.publicKey, Buffer.from(signature ?? "", "base64url"))) {
      throw unauthorized("A JSON web token could not be decoded");
    }
    const now = Math.floor(this.model.now().getTime() / 1000);
    const { iat, exp } = claims;
    if (!Number.isInteger(iat) || (iat as number) > now) {
      throw unauthorized(
        "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
      );
    }
    if (!Number.isInteger(exp) || (exp as number) <= now) {
      throw unauthorized(
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
      );
    }
    if ((exp as number) > now + MAX_JWT_SECONDS || (exp as number) - (iat as number) > MAX_JWT_SECONDS) {
      throw unauthorized("'Expiration time' claim ('exp') is too far in the future");
    }
    return app;
  }

  /** The App's installation that covers `fullName`, or 404. */
  installationFor(app: App, fullName: string): Installation {
    const installation = [...this.installations.values()].find((i) => i.app === app && i.repos.has(fullName));
    if (!installation) throw notFound();
    return installation;
  }

  installation(app: App, id: string): Installation {
    const installation = this.installations.get(Number(id));
    if (!installation || installation.app !== app) throw notFound();
    return installation;
  }

  revoke(token: string): void {
    this.tokens.revoke(token);
  }

  /** `POST …/access_tokens`: a token for some of the installation's repositories and permissions. */
  mint(installation: Installation, body: { repositories?: string[]; permissions?: AppPermissions } | undefined) {
    const names = body?.repositories;
    const repos = names ? names.map((name) => `${installation.account.login}/${name}`) : [...installation.repos];
    if (repos.some((r) => !installation.repos.has(r))) {
      throw new HttpError(
        422,
        "There is at least one repository that does not exist or is not accessible to the parent installation.",
      );
    }
    const permissions = body?.permissions ?? installation.permissions;
    for (const [name, level] of Object.entries(permissions)) {
      const granted = installation.permissions[name];
      if (!granted || RANK[level] > RANK[granted]) {
        throw validationFailed({ resource: "Installation", code: "invalid", field: "permissions", message: name });
      }
    }
    const levels: Record<Area, Level> = { ...NO_PERMISSIONS, metadata: "read" };
    for (const [name, level] of Object.entries(permissions)) {
      const area = AREAS[name];
      if (area) levels[area] = level;
    }
    const token = `ghs_${randomBytes(18).toString("base64url").replace(/[-_]/g, "x")}`;
    const expiresAt = new Date(this.model.now().getTime() + this.tokenLifetimeMs);
    this.tokens.addInstallationToken(token, {
      user: installation.app.bot,
      repos: new Set(repos),
      permissions: levels,
      expiresAt,
      installationId: installation.id,
    });
    return { token, expiresAt, permissions: { metadata: "read", ...permissions }, repos, all: !names };
  }
}
