import type { RepoFullName } from "@thopter/protocol";
import type { GitHubClients } from "../github/clients.js";
import { splitRepo } from "../github/issues.js";

export interface RepoInfo {
  htmlUrl: string;
  defaultBranch: string;
}

/** Each repository's web address and default branch (GET /repos/{owner}/{repo}), asked once and cached. */
export class RepoInfoCache {
  private readonly cache = new Map<string, Promise<RepoInfo>>();

  constructor(private readonly clients: GitHubClients) {}

  get(repo: RepoFullName): Promise<RepoInfo> {
    const key = repo.toLowerCase();
    let info = this.cache.get(key);
    if (!info) {
      info = this.clients
        .get(repo)
        .request("GET /repos/{owner}/{repo}", splitRepo(repo))
        .then(({ data }) => ({ htmlUrl: data.html_url, defaultBranch: data.default_branch }));
      // A failure is not cached: the next notice asks again.
      info.catch(() => this.cache.delete(key));
      this.cache.set(key, info);
    }
    return info;
  }
}
