import { Octokit as Core } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import { restEndpointMethods } from "@octokit/plugin-rest-endpoint-methods";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import type { Logger } from "pino";

const Octokit = Core.plugin(restEndpointMethods, paginateRest, retry, throttling);
export type GitHub = InstanceType<typeof Octokit>;

/** Octokit with the coder token, honouring GitHub's primary and secondary limits (retry once, then give up). */
export function createGitHub(baseUrl: string, token: string, log: Logger): GitHub {
  return new Octokit({
    auth: token,
    baseUrl: baseUrl.replace(/\/$/, ""),
    userAgent: "thopter-broker",
    log: { debug: () => {}, info: () => {}, warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) },
    throttle: {
      onRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => {
        log.warn({ retryAfter }, "GitHub rate limit");
        return retryCount < 1 && retryAfter <= 60;
      },
      onSecondaryRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => {
        log.warn({ retryAfter }, "GitHub secondary rate limit");
        return retryCount < 1 && retryAfter <= 60;
      },
    },
  });
}

export type RepoRef = { owner: string; repo: string };

export function repoRef(fullName: string): RepoRef {
  const [owner, repo] = fullName.split("/") as [string, string];
  return { owner, repo };
}
