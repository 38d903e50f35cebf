import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";
import { RequestError } from "@octokit/request-error";
import type { Check } from "./github-checks.js";

/** What the hub and each thopter's broker ask for (hub/src/github/app.ts): the installation must grant all of it. */
const NEEDED: Record<string, "read" | "write"> = {
  contents: "write",
  pull_requests: "write",
  issues: "write",
  checks: "read",
  metadata: "read",
};
const RANK = { read: 1, write: 2 } as const;

const fail = (message: string): Check => ({ level: "fail", message });

/**
 * The GitHub App, as the hub will use it: the key signs a JWT GitHub accepts (`GET /app`), and the App is installed
 * on each repository listed without tokens with every permission the hub and brokers need. Changes nothing.
 */
export async function checkGithubApp(
  api: string,
  appId: string,
  privateKey: string,
  repos: string[],
): Promise<Check[]> {
  const skew: string[] = [];
  const github = new Octokit({
    baseUrl: api,
    authStrategy: createAppAuth,
    auth: { appId, privateKey, log: { warn: (m: string) => skew.push(m) } },
    userAgent: "thopter-swarm-preflight",
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  let slug: string;
  try {
    slug = (await github.request("GET /app")).data?.slug ?? "";
  } catch (err) {
    if (err instanceof RequestError && err.status === 401) {
      return [
        fail(`GitHub App ${appId}: GitHub refused its JWT (${err.message}); check GITHUB_APP_ID belongs to this key`),
      ];
    }
    const reason = (err as Error).message;
    return [fail(`GitHub App ${appId}: could not sign in (${reason}); check the key is the App's .pem file`)];
  }
  const checks: Check[] = [{ level: "ok", message: `GitHub App ${slug}: key loads and GitHub accepts its JWT` }];
  const drift = skew.find((m) => /time are different by/.test(m));
  if (drift) checks.push({ level: "warn", message: `GitHub App: this machine's clock is off (${drift}); fix NTP` });
  for (const repo of repos) {
    const [owner = "", name = ""] = repo.split("/");
    try {
      const { data } = await github.request("GET /repos/{owner}/{repo}/installation", { owner, repo: name });
      const granted = data.permissions as Record<string, string | undefined>;
      const missing = Object.entries(NEEDED)
        .filter(([p, level]) => (RANK[granted[p] as keyof typeof RANK] ?? 0) < RANK[level])
        .map(([p, level]) => `${p}: ${level}`);
      checks.push(
        missing.length === 0
          ? { level: "ok", message: `GitHub App on ${repo}: installed with every permission thopters need` }
          : fail(
              `GitHub App on ${repo}: lacks ${missing.join(", ")}; add them in the App's settings (Permissions) and accept them on the installation`,
            ),
      );
    } catch (err) {
      if (!(err instanceof RequestError && err.status === 404)) throw err;
      checks.push(fail(`GitHub App is not installed on ${repo}: install it there (the App's page → Install App)`));
    }
  }
  return checks;
}
