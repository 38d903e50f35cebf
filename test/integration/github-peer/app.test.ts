import { execFile } from "node:child_process";
import { createPrivateKey, sign } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createAppAuth } from "@octokit/auth-app";
import type { RequestError } from "@octokit/request-error";
import githubAppJwt from "universal-github-app-jwt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GithubPeer } from "../../peers/github/index.js";
import { ManualClock, NAME, OWNER, octokit, REPO, RestOctokit, seededPeer } from "./harness.js";

/**
 * The peer as a GitHub App's counterpart: JWTs checked as GitHub checks them, installation tokens limited to their
 * repositories, permissions and lifetime, and revocable — for REST calls and git pushes alike.
 */

const run = promisify(execFile);
const OTHER = "acme/other";
const LEAST = { contents: "write", pull_requests: "write", issues: "write", checks: "read", metadata: "read" } as const;

let peer: GithubPeer;
let clock: ManualClock;
let app: { appId: number; privateKey: string; slug: string; botLogin: string };
let installationId: number;
let work: string;

beforeEach(async () => {
  clock = new ManualClock();
  peer = await seededPeer({ clock });
  await peer.addRepo(OTHER, { issuesToken: "issues-token-0002", coderToken: "coder-token-0002", bot: { login: "b2" } });
  app = peer.apps.create("thopter-swarm", OWNER);
  installationId = peer.apps.install(app.appId, [REPO, OTHER], LEAST);
  work = await mkdtemp(join(tmpdir(), "github-peer-app-"));
});

afterEach(async () => {
  peer.assertClean();
  await peer.close();
  await rm(work, { recursive: true, force: true });
});

const seconds = () => Math.floor(clock.now().getTime() / 1000);
const appOctokit = (jwt: string) => new RestOctokit({ baseUrl: peer.url, auth: jwt, request: { retries: 0 } });

/** A JWT with any claims, signed with `key` (default: the App's): what a broken or hostile client would send. */
function craftJwt(claims: Record<string, unknown>, key = app.privateKey): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const unsigned = `${part({ alg: "RS256", typ: "JWT" })}.${part(claims)}`;
  return `${unsigned}.${sign("RSA-SHA256", Buffer.from(unsigned), createPrivateKey(key)).toString("base64url")}`;
}

async function status(promise: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await promise;
    return { status: 200, message: "" };
  } catch (error) {
    const e = error as RequestError;
    return { status: e.status, message: (e.response?.data as { message?: string } | undefined)?.message ?? "" };
  }
}

/** A token as the hub mints it for one thopter: one repository, least permissions. */
async function thopterToken(): Promise<{ token: string; expiresAt: string }> {
  const jwt = (await githubAppJwt({ id: app.appId, privateKey: app.privateKey, now: seconds() })).token;
  const { data } = await appOctokit(jwt).request("POST /app/installations/{installation_id}/access_tokens", {
    installation_id: installationId,
    repositories: [NAME],
    permissions: LEAST,
  });
  expect(data.repositories?.map((r) => r.full_name)).toEqual([REPO]);
  return { token: data.token, expiresAt: data.expires_at };
}

async function push(token: string, branch: string): Promise<{ code: number; out: string }> {
  const url = new URL(peer.gitUrl(REPO));
  url.username = "x-access-token";
  url.password = token;
  const dir = join(work, branch.replace(/\W/g, "-"));
  const env = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_TERMINAL_PROMPT: "0" };
  const id = ["-c", "user.name=bot", "-c", "user.email=bot@example.com"];
  try {
    await run("git", ["clone", "--quiet", url.toString(), dir], { env });
    await writeFile(join(dir, "change.txt"), `${branch}\n`);
    await run("git", ["-C", dir, "add", "change.txt"], { env });
    await run("git", ["-C", dir, ...id, "commit", "--quiet", "-m", "change"], { env });
    const { stdout, stderr } = await run("git", ["-C", dir, "push", "--quiet", "origin", `HEAD:${branch}`], { env });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, out: e.stderr ?? "" };
  }
}

describe("GitHub App JWTs", () => {
  it("@octokit/auth-app finds a repository's installation and mints a token, correcting its clock by the Date header", async () => {
    // The peer's clock (ManualClock) is months away from this machine's: every first JWT is refused as skewed.
    const github = new RestOctokit({
      baseUrl: peer.url,
      authStrategy: createAppAuth,
      auth: { appId: app.appId, privateKey: app.privateKey },
      request: { retries: 0 },
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });
    const { data } = await github.request("GET /repos/{owner}/{repo}/installation", { owner: OWNER, repo: NAME });
    expect(data).toMatchObject({ id: installationId, app_slug: "thopter-swarm", permissions: LEAST });
    const minted = await github.request("POST /app/installations/{installation_id}/access_tokens", {
      installation_id: data.id,
      repositories: [NAME],
    });
    expect(minted.data.token).toMatch(/^ghs_/);
    const issues = octokit(peer, minted.data.token).request("GET /repos/{owner}/{repo}/issues", {
      owner: OWNER,
      repo: NAME,
    });
    expect((await issues).status).toBe(200);
    // Its own token cache mints through the same corrected request.
    const cached = await github.auth({ type: "installation", installationId: data.id });
    expect((cached as { token: string }).token).toMatch(/^ghs_/);
  });

  it("a repository the App is not installed on: 404", async () => {
    await peer.addRepo("acme/private", {
      issuesToken: "issues-token-0003",
      coderToken: "coder-token-0003",
      bot: { login: "b3" },
    });
    const jwt = (await githubAppJwt({ id: app.appId, privateKey: app.privateKey, now: seconds() })).token;
    const lookup = appOctokit(jwt).request("GET /repos/{owner}/{repo}/installation", {
      owner: "acme",
      repo: "private",
    });
    expect((await status(lookup)).status).toBe(404);
  });

  it("refuses JWTs GitHub refuses, with GitHub's messages", async () => {
    const now = seconds();
    const cases: [string, string][] = [
      [craftJwt({ iss: app.appId, iat: now + 120, exp: now + 500 }), "'Issued at' claim ('iat') must be an Integer"],
      [craftJwt({ iss: app.appId, iat: now - 60, exp: now + 900 }), "'Expiration time' claim ('exp') is too far"],
      [
        craftJwt({ iss: app.appId, iat: now - 700, exp: now - 100 }),
        "'Expiration time' claim ('exp') must be a numeric",
      ],
      [craftJwt({ iss: app.appId, iat: now - 650, exp: now + 60 }), "'Expiration time' claim ('exp') is too far"],
      [craftJwt({ iss: 999999, iat: now - 30, exp: now + 500 }), "'Issuer' claim ('iss') must be an Integer"],
      [`${craftJwt({ iss: app.appId, iat: now - 30, exp: now + 500 }).slice(0, -4)}AAAA`, "could not be decoded"],
      ["not-a-jwt", "could not be decoded"],
    ];
    // Signed by another key: the App's public key rejects it.
    const other = peer.apps.create("other-app", OWNER);
    cases.push([craftJwt({ iss: app.appId, iat: now - 30, exp: now + 500 }, other.privateKey), "could not be decoded"]);
    for (const [jwt, message] of cases) {
      const answer = await status(
        appOctokit(jwt).request("GET /repos/{owner}/{repo}/installation", { owner: OWNER, repo: NAME }),
      );
      expect(answer, message).toMatchObject({ status: 401 });
      expect(answer.message).toContain(message);
    }
  });

  it("a client whose clock is ahead is refused, and the Date header says the peer's time", async () => {
    const jwt = (await githubAppJwt({ id: app.appId, privateKey: app.privateKey, now: seconds() + 600 })).token;
    try {
      await appOctokit(jwt).request("GET /repos/{owner}/{repo}/installation", { owner: OWNER, repo: NAME });
      expect.unreachable("a JWT from the future was accepted");
    } catch (error) {
      const e = error as RequestError;
      expect(e.status).toBe(401);
      expect((e.response?.data as { message?: string } | undefined)?.message).toMatch(/^'Issued at' claim \('iat'\)/);
      expect(Date.parse(String(e.response?.headers.date))).toBe(clock.now().getTime());
    }
  });
});

describe("installation tokens", () => {
  it("work only on their repository: another repository is 404, for REST and git", async () => {
    const { token } = await thopterToken();
    const other = octokit(peer, token).request("GET /repos/{owner}/{repo}/issues", { owner: "acme", repo: "other" });
    expect((await status(other)).status).toBe(404);
    const url = new URL(peer.gitUrl(OTHER));
    url.username = "x-access-token";
    url.password = token;
    const clone = await run("git", ["clone", "--quiet", url.toString(), join(work, "o")], {
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
    }).catch((e: { stderr: string }) => e);
    expect((clone as { stderr: string }).stderr).toContain("Repository not found");
  });

  it("carry only the permissions asked for: a missing one is 403 'not accessible by integration'", async () => {
    const jwt = (await githubAppJwt({ id: app.appId, privateKey: app.privateKey, now: seconds() })).token;
    const { data } = await appOctokit(jwt).request("POST /app/installations/{installation_id}/access_tokens", {
      installation_id: installationId,
      repositories: [NAME],
      permissions: { issues: "write", metadata: "read" },
    });
    const pr = octokit(peer, data.token).request("POST /repos/{owner}/{repo}/pulls", {
      owner: OWNER,
      repo: NAME,
      title: "t",
      head: "thopter/x",
      base: "main",
    });
    expect(await status(pr)).toEqual({ status: 403, message: "Resource not accessible by integration" });
    const pushed = await push(data.token, "thopter/x");
    expect(pushed.code).not.toBe(0);
    expect(pushed.out).toContain("Permission to acme/app.git denied to thopter-swarm[bot]");
    // More than the installation was granted: refused at minting.
    const wider = appOctokit(jwt).request("POST /app/installations/{installation_id}/access_tokens", {
      installation_id: installationId,
      permissions: { administration: "write" },
    });
    expect((await status(wider)).status).toBe(422);
    const elsewhere = appOctokit(jwt).request("POST /app/installations/{installation_id}/access_tokens", {
      installation_id: installationId,
      repositories: ["private"],
    });
    expect((await status(elsewhere)).status).toBe(422);
  });

  it("push thopter/* branches as the App's bot; other branches are refused by the branch rule", async () => {
    const { token } = await thopterToken();
    expect((await push(token, "thopter/one")).code).toBe(0);
    expect((await peer.log(REPO, "thopter/one"))[0]?.subject).toBe("change");
    const main = await push(token, "main");
    expect(main.code).not.toBe(0);
    expect(main.out).toContain("GH013");
    const user = octokit(peer, token).request("GET /user");
    expect((await status(user)).status).toBe(403);
  });

  it("expire: after expires_at every call and push is 401", async () => {
    peer.apps.tokenLifetimeMs = 5 * 60 * 1000;
    const { token, expiresAt } = await thopterToken();
    expect(Date.parse(expiresAt) - clock.now().getTime()).toBe(5 * 60 * 1000);
    clock.advance(299);
    expect((await push(token, "thopter/before")).code).toBe(0);
    clock.advance(1);
    const call = octokit(peer, token).request("GET /repos/{owner}/{repo}/issues", { owner: OWNER, repo: NAME });
    expect(await status(call)).toEqual({ status: 401, message: "Bad credentials" });
    const after = await push(token, "thopter/after");
    expect(after.code).not.toBe(0);
  });

  it("revoke themselves: DELETE /installation/token, then 401", async () => {
    const { token } = await thopterToken();
    const client = octokit(peer, token);
    expect((await client.request("DELETE /installation/token")).status).toBe(204);
    const later = client.request("GET /repos/{owner}/{repo}/issues", { owner: OWNER, repo: NAME });
    expect(await status(later)).toEqual({ status: 401, message: "Bad credentials" });
    expect((await push(token, "thopter/late")).code).not.toBe(0);
  });
});
