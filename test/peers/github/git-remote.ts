import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { allows, canSee, Tokens } from "./auth.js";
import type { Faults } from "./faults.js";
import { serveGit } from "./git-http.js";
import type { Model } from "./model.js";
import { send } from "./respond.js";

export interface GitRemoteDeps {
  model: Model;
  tokens: Tokens;
  faults: Faults;
  /** The folder holding `<owner>/<name>.git`. */
  projectRoot: string;
  logger: Logger;
}

/**
 * github.com's git remote (`/git/<owner>/<name>.git/…`): Basic auth with a token, GitHub's answers for a bad token,
 * an unseen repository or a read-only token, injected faults, then `git http-backend` (the branch rule is the
 * repository's pre-receive hook).
 */
export async function serveGitRemote(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  deps: GitRemoteDeps,
): Promise<number> {
  const match = /^\/git\/([^/]+)\/([^/]+)\.git(\/.*)$/.exec(url.pathname);
  const fullName = match ? `${match[1]}/${match[2]}` : "";
  const repo = deps.model.repos.get(fullName);
  const token = Tokens.fromBasicHeader(req.headers.authorization);
  const grant = token ? deps.tokens.get(token) : undefined;
  const text = (status: number, message: string, headers: Record<string, string> = {}) => {
    req.resume();
    return send(res, status, { "content-type": "text/plain; charset=utf-8", ...headers }, `${message}\n`);
  };
  if (!grant)
    return text(401, "Invalid username or token. Password authentication is not supported for Git operations.", {
      "www-authenticate": 'Basic realm="GitHub"',
    });
  if (!match || !repo || !canSee(grant, fullName)) return text(404, "Repository not found.");
  const fault = deps.faults.take(req.method ?? "GET", url.pathname, String(res.getHeader("x-github-request-id")));
  if (fault) {
    req.resume();
    return send(res, fault.status, fault.headers, fault.body);
  }
  const service = match[3] ?? "";
  const push = url.searchParams.get("service") === "git-receive-pack" || service === "/git-receive-pack";
  if (!allows(grant, "contents", push ? "write" : "read")) {
    return text(403, `Permission to ${fullName}.git denied to ${grant.user.login}.`);
  }
  const result = await serveGit(req, res, {
    projectRoot: deps.projectRoot,
    pathInfo: `/${fullName}.git${service}`,
    remoteUser: grant.user.login,
  });
  if (result.stderr.trim()) deps.logger.debug({ repo: fullName, stderr: result.stderr }, "git http-backend stderr");
  if (service === "/git-receive-pack" && result.status === 200) repo.pushedAt = deps.model.now();
  return result.status;
}
