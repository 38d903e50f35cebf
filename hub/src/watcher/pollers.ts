import type { RepoFullName, ThopterRecord, ThopterState } from "@thopter/protocol";
import type { GitHubClients } from "../github/clients.js";
import { type PollerDeps, RepoPoller } from "./poller.js";

/** States in which a thopter can still take a follow-up from its pull request (not failed, not on its way out). */
const LIVE: readonly ThopterState[] = ["requested", "provisioning", "booting", "working", "waiting", "done", "blocked"];

/** The pull request numbers of `repo`'s live thopters: the ones whose reviews the poller watches. */
export function livePullNumbers(records: readonly Readonly<ThopterRecord>[], repo: RepoFullName): number[] {
  const numbers = records
    .filter((r) => r.repo === repo && r.pullRequestUrl && LIVE.includes(r.state))
    .map((r) => Number(/\/pull\/(\d+)$/.exec(r.pullRequestUrl ?? "")?.[1]))
    .filter((n) => Number.isInteger(n) && n > 0);
  return [...new Set(numbers)].sort((a, b) => a - b);
}

/** One poller per repository, each watching the reviews of its live thopters' pull requests. */
export function repoPollers(
  repos: readonly RepoFullName[],
  deps: Omit<PollerDeps, "repo" | "client" | "watchedPulls"> & {
    clients: Pick<GitHubClients, "poll">;
    registry?: { list(): readonly Readonly<ThopterRecord>[] };
  },
): RepoPoller[] {
  const { clients, registry, ...rest } = deps;
  return repos.map(
    (repo) =>
      new RepoPoller({
        ...rest,
        repo,
        client: clients.poll(repo),
        watchedPulls: async () => livePullNumbers(registry?.list() ?? [], repo),
      }),
  );
}
