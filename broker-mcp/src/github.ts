import { createCallbackAuth } from "@octokit/auth-callback";
import { Octokit as Core } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import { restEndpointMethods } from "@octokit/plugin-rest-endpoint-methods";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { httpStatus } from "@thopter/protocol";
import type { Logger } from "pino";
import type { CoderToken } from "./coder-token.js";

const Octokit = Core.plugin(restEndpointMethods, paginateRest, retry, throttling);
export type GitHub = InstanceType<typeof Octokit>;

/**
 * Octokit with the coder token, honouring GitHub's primary and secondary limits (retry once, then give up). A GitHub
 * App token that GitHub calls expired (401) is renewed through the hub and the request sent once more.
 */
export function createGitHub(baseUrl: string, token: CoderToken, log: Logger): GitHub {
  const github = new Octokit({
    authStrategy: createCallbackAuth,
    auth: { callback: () => token.current },
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
  github.hook.wrap("request", async (request, options) => {
    try {
      return await request(options);
    } catch (err) {
      if (httpStatus(err) !== 401 || !token.renewable) throw err;
      log.warn("GitHub answered 401: renewing the GitHub App token and retrying once");
      await token.renew();
      return request(options);
    }
  });
  return github;
}

export type RepoRef = { owner: string; repo: string };

export function repoRef(fullName: string): RepoRef {
  const [owner, repo] = fullName.split("/") as [string, string];
  return { owner, repo };
}
