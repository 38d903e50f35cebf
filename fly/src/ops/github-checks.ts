import type { RepoTokens } from "./settings.js";

export type Level = "ok" | "warn" | "fail" | "note";
export interface Check {
  level: Level;
  message: string;
}

interface Probe {
  status: number;
  body: unknown;
  /** GitHub's `x-accepted-github-permissions`: what the endpoint needs, on a fine-grained token's 403. */
  needs: string | null;
}

const TIMEOUT_MS = 15_000;
/** A branch name no repository has: creating a PR from it fails validation (422) only if the token may write PRs. */
const PROBE_HEAD = "thopter-preflight-probe/no-such-branch";

async function probe(url: string, authorization: string, method = "GET", body?: unknown): Promise<Probe> {
  const response = await fetch(url, {
    method,
    headers: {
      authorization,
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
      "user-agent": "thopter-swarm-preflight",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // git endpoints answer in text
  }
  return { status: response.status, body: parsed, needs: response.headers.get("x-accepted-github-permissions") };
}

/** One check from a probe's status: `allowed` statuses pass, 403 means the permission is missing. */
function verdict(p: Probe, allowed: number[], label: string, permission: string): Check {
  if (allowed.includes(p.status)) return { level: "ok", message: `${label}: has ${permission}` };
  const needs = p.needs ? ` (GitHub says it needs ${p.needs})` : "";
  if (p.status === 403) {
    return {
      level: "fail",
      message: `${label}: lacks ${permission}${needs}; edit the token's repository permissions on GitHub (Settings → Developer settings → Fine-grained tokens)`,
    };
  }
  return { level: "fail", message: `${label}: unexpected HTTP ${p.status} while checking ${permission}${needs}` };
}

/**
 * Probes what one token may do in one repository, without changing anything: reads for read access, and for write
 * access requests GitHub refuses either for lack of permission (403) or for a target that does not exist (404/422).
 */
async function checkToken(api: string, repo: string, token: string, role: "issues" | "coder"): Promise<Check[]> {
  const label = `${role} token for ${repo}`;
  const auth = `Bearer ${token}`;
  const base = `${api}/repos/${repo}`;
  const repoProbe = await probe(base, auth);
  if (repoProbe.status === 401) {
    return [
      { level: "fail", message: `${label}: GitHub refused it (expired or revoked); create a new fine-grained token` },
    ];
  }
  if (repoProbe.status !== 200) {
    return [
      {
        level: "fail",
        message: `${label}: cannot see the repository (HTTP ${repoProbe.status}); give the token access to ${repo} and make the bot user a collaborator`,
      },
    ];
  }
  const info = repoProbe.body as { default_branch?: string; clone_url?: string; permissions?: { push?: boolean } };
  const checks: Check[] = [{ level: "ok", message: `${label}: sees the repository` }];
  const issueWrite = await probe(`${base}/issues/comments/0`, auth, "PATCH", { body: "thopter preflight probe" });
  if (role === "issues") {
    checks.push(verdict(await probe(`${base}/issues?per_page=1`, auth), [200], label, "Issues: read"));
    checks.push(verdict(issueWrite, [404, 422], label, "Issues: read and write"));
    return checks;
  }
  if (info.permissions?.push === false) {
    checks.push({
      level: "fail",
      message: `${label}: the bot user has no write role on ${repo}; add it as a collaborator with Write`,
    });
  }
  if (info.clone_url) {
    const basic = `Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;
    const push = await probe(`${info.clone_url}/info/refs?service=git-receive-pack`, basic);
    checks.push(verdict(push, [200], label, "Contents: read and write (git push)"));
  }
  checks.push(verdict(await probe(`${base}/pulls?per_page=1`, auth), [200], label, "Pull requests: read"));
  const pull = await probe(`${base}/pulls`, auth, "POST", {
    title: "thopter preflight probe",
    head: PROBE_HEAD,
    base: info.default_branch ?? "main",
    draft: true,
  });
  checks.push(verdict(pull, [422], label, "Pull requests: read and write"));
  checks.push(verdict(issueWrite, [404, 422], label, "Issues: read and write"));
  return checks;
}

/**
 * Every repository's two tokens, checked against `GITHUB_API_URL` (repositories without tokens are the GitHub App's:
 * see github-app-checks.ts). Network failures become failed checks.
 */
export async function checkGithub(api: string, repositories: Record<string, RepoTokens>): Promise<Check[]> {
  const checks: Check[] = [];
  for (const [repo, { issuesToken, coderToken }] of Object.entries(repositories)) {
    if (!issuesToken || !coderToken) continue;
    const tokens = { issuesToken, coderToken };
    if (tokens.issuesToken === tokens.coderToken) {
      checks.push({
        level: "warn",
        message: `${repo}: issuesToken and coderToken are the same token; use two, so the hub never holds push rights`,
      });
    }
    for (const role of ["issues", "coder"] as const) {
      try {
        checks.push(...(await checkToken(api, repo, role === "issues" ? tokens.issuesToken : tokens.coderToken, role)));
      } catch (err) {
        checks.push({
          level: "fail",
          message: `${role} token for ${repo}: cannot reach GitHub at ${api} (${(err as Error).message}); check GITHUB_API_URL and your network`,
        });
      }
    }
  }
  return checks;
}
