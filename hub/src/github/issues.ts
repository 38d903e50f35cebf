import type { CommandSource, RepoFullName } from "@thopter/protocol";
import type { GitHubClient } from "./octokit.js";

/** The GitHub calls the hub makes about issues, beside the poller's conditional listings. */

export function splitRepo(repo: RepoFullName): { owner: string; repo: string } {
  const [owner, name] = repo.split("/") as [string, string];
  return { owner, repo: name };
}

/** An issue's title, and whether it is a pull request (they share numbers and the issues API). */
export async function getIssueInfo(
  client: GitHubClient,
  repo: RepoFullName,
  issueNumber: number,
): Promise<{ title: string; onPull: boolean }> {
  const { data } = await client.request("GET /repos/{owner}/{repo}/issues/{issue_number}", {
    ...splitRepo(repo),
    issue_number: issueNumber,
  });
  return { title: data.title, onPull: data.pull_request !== undefined && data.pull_request !== null };
}

/**
 * A reaction on a command: on its comment (conversation or line comment), or on the issue or pull request itself when
 * the command was in its body or in a review's body (GitHub's REST API has no reactions on reviews).
 * Idempotent on GitHub (200 if present).
 */
export async function react(
  client: GitHubClient,
  target: Pick<CommandSource, "repo" | "issueNumber" | "commentId" | "kind">,
  content: "eyes" | "rocket",
): Promise<void> {
  const { owner, repo } = splitRepo(target.repo);
  if (target.commentId === null || target.kind === "review") {
    await client.request("POST /repos/{owner}/{repo}/issues/{issue_number}/reactions", {
      owner,
      repo,
      issue_number: target.issueNumber,
      content,
    });
  } else if (target.kind === "review-comment") {
    await client.request("POST /repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions", {
      owner,
      repo,
      comment_id: target.commentId,
      content,
    });
  } else {
    await client.request("POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", {
      owner,
      repo,
      comment_id: target.commentId,
      content,
    });
  }
}

export async function createComment(
  client: GitHubClient,
  repo: RepoFullName,
  issueNumber: number,
  body: string,
): Promise<void> {
  await client.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
    ...splitRepo(repo),
    issue_number: issueNumber,
    body,
  });
}

/** Whether some comment updated at or after `since` contains `marker` (repo-wide listing, every page). */
export async function hasCommentContaining(
  client: GitHubClient,
  repo: RepoFullName,
  since: string,
  marker: string,
): Promise<boolean> {
  const pages = client.paginate.iterator("GET /repos/{owner}/{repo}/issues/comments", {
    ...splitRepo(repo),
    since,
    sort: "updated",
    direction: "asc",
    per_page: 100,
  });
  for await (const page of pages) {
    if (page.data.some((c) => c.body?.includes(marker))) return true;
  }
  return false;
}

/** The login the issues token acts as: its own comments never count as commands. */
export async function getTokenLogin(client: GitHubClient): Promise<string> {
  const { data } = await client.request("GET /user");
  return data.login;
}
