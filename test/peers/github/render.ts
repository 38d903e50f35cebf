import type { Comment, Issue, Reaction, Repo, User } from "./model.js";
import { REACTION_CONTENTS } from "./model.js";
import { repositoryJson } from "./render-repository.js";

/**
 * Turns model objects into the JSON GitHub sends: every field the OpenAPI description requires, with URLs that
 * point at the peer (`base` is both the REST root and the "web" root; git lives under `/git/`).
 */

/** GitHub's timestamp format: ISO 8601 in UTC, whole seconds. */
export const iso = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, "Z");

/** GitHub's legacy global node id: base64 of "<len>:<Type><id>". */
export function nodeId(type: string, id: number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString("base64");
}

export class Renderer {
  constructor(
    readonly base: string,
    private readonly gitUrl: (repo: Repo) => string,
  ) {}

  user(user: User): Record<string, unknown> {
    const api = `${this.base}/users/${encodeURIComponent(user.login)}`;
    return {
      login: user.login,
      id: user.id,
      node_id: nodeId(user.type === "Bot" ? "Bot" : "User", user.id),
      avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
      gravatar_id: "",
      url: api,
      html_url: `${this.base}/${encodeURIComponent(user.login)}`,
      followers_url: `${api}/followers`,
      following_url: `${api}/following{/other_user}`,
      gists_url: `${api}/gists{/gist_id}`,
      starred_url: `${api}/starred{/owner}{/repo}`,
      subscriptions_url: `${api}/subscriptions`,
      organizations_url: `${api}/orgs`,
      repos_url: `${api}/repos`,
      events_url: `${api}/events{/privacy}`,
      received_events_url: `${api}/received_events`,
      type: user.type,
      user_view_type: "public",
      site_admin: false,
    };
  }

  /** `GET /user` for a token's owner (public-user shape). */
  authenticatedUser(user: User): Record<string, unknown> {
    return {
      ...this.user(user),
      name: null,
      company: null,
      blog: "",
      location: null,
      email: null,
      hireable: null,
      bio: null,
      twitter_username: null,
      public_repos: 0,
      public_gists: 0,
      followers: 0,
      following: 0,
      created_at: iso(user.createdAt),
      updated_at: iso(user.createdAt),
    };
  }

  repoApi(repo: Repo): string {
    return `${this.base}/repos/${repo.fullName}`;
  }

  repoWeb(repo: Repo): string {
    return `${this.base}/${repo.fullName}`;
  }

  /** The full-repository shape (GET /repos/{owner}/{repo}); also used inside pull requests and webhooks. */
  repository(repo: Repo): Record<string, unknown> {
    return repositoryJson(this, repo, this.gitUrl(repo));
  }

  reactionRollup(url: string, reactions: Reaction[]): Record<string, unknown> {
    const rollup: Record<string, unknown> = { url, total_count: reactions.length };
    for (const content of REACTION_CONTENTS) rollup[content] = reactions.filter((r) => r.content === content).length;
    return rollup;
  }

  reaction(reaction: Reaction): Record<string, unknown> {
    return {
      id: reaction.id,
      node_id: nodeId("Reaction", reaction.id),
      user: this.user(reaction.user),
      content: reaction.content,
      created_at: iso(reaction.createdAt),
    };
  }

  issueUrl(issue: Issue): string {
    return `${this.repoApi(issue.repo)}/issues/${issue.number}`;
  }

  issue(issue: Issue): Record<string, unknown> {
    const url = this.issueUrl(issue);
    const web = `${this.repoWeb(issue.repo)}/${issue.pull ? "pull" : "issues"}/${issue.number}`;
    const json: Record<string, unknown> = {
      url,
      repository_url: this.repoApi(issue.repo),
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: web,
      id: issue.id,
      node_id: nodeId(issue.pull ? "PullRequest" : "Issue", issue.id),
      number: issue.number,
      title: issue.title,
      user: this.user(issue.user),
      labels: [],
      state: issue.state,
      locked: false,
      assignee: null,
      assignees: [],
      milestone: null,
      comments: issue.commentCount,
      created_at: iso(issue.createdAt),
      updated_at: iso(issue.updatedAt),
      closed_at: issue.closedAt ? iso(issue.closedAt) : null,
      author_association: issue.association,
      active_lock_reason: null,
      body: issue.body,
      reactions: this.reactionRollup(`${url}/reactions`, issue.reactions),
      timeline_url: `${url}/timeline`,
      performed_via_github_app: null,
      state_reason: null,
    };
    if (issue.pull) {
      json.draft = issue.pull.draft;
      json.pull_request = {
        url: `${this.repoApi(issue.repo)}/pulls/${issue.number}`,
        html_url: web,
        diff_url: `${web}.diff`,
        patch_url: `${web}.patch`,
        merged_at: null,
      };
    }
    return json;
  }

  comment(comment: Comment): Record<string, unknown> {
    const url = `${this.repoApi(comment.repo)}/issues/comments/${comment.id}`;
    return {
      url,
      html_url: `${this.repoWeb(comment.repo)}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
      issue_url: `${this.repoApi(comment.repo)}/issues/${comment.issueNumber}`,
      id: comment.id,
      node_id: nodeId("IssueComment", comment.id),
      user: this.user(comment.user),
      created_at: iso(comment.createdAt),
      updated_at: iso(comment.updatedAt),
      author_association: comment.association,
      body: comment.body,
      reactions: this.reactionRollup(`${url}/reactions`, comment.reactions),
      performed_via_github_app: null,
    };
  }

  /** The pull-request shape; `full` adds the counts only single-PR responses carry. */
  pull(issue: Issue, full: boolean): Record<string, unknown> {
    const pull = issue.pull!;
    const repo = issue.repo;
    const api = `${this.repoApi(repo)}/pulls/${issue.number}`;
    const web = `${this.repoWeb(repo)}/pull/${issue.number}`;
    const issueUrl = this.issueUrl(issue);
    const repository = this.repository(repo);
    const side = (ref: string, sha: string) => ({
      label: `${repo.owner.login}:${ref}`,
      ref,
      sha,
      user: this.user(repo.owner),
      repo: repository,
    });
    const json: Record<string, unknown> = {
      url: api,
      id: pull.id,
      node_id: nodeId("PullRequest", pull.id),
      html_url: web,
      diff_url: `${web}.diff`,
      patch_url: `${web}.patch`,
      issue_url: issueUrl,
      commits_url: `${api}/commits`,
      review_comments_url: `${api}/comments`,
      review_comment_url: `${this.repoApi(repo)}/pulls/comments{/number}`,
      comments_url: `${issueUrl}/comments`,
      statuses_url: `${this.repoApi(repo)}/statuses/${pull.headSha}`,
      number: issue.number,
      state: issue.state,
      locked: false,
      title: issue.title,
      user: this.user(issue.user),
      body: issue.body,
      labels: [],
      milestone: null,
      active_lock_reason: null,
      created_at: iso(issue.createdAt),
      updated_at: iso(issue.updatedAt),
      closed_at: null,
      merged_at: null,
      merge_commit_sha: null,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: side(pull.head, pull.headSha),
      base: side(pull.base, pull.baseSha),
      _links: {
        self: { href: api },
        html: { href: web },
        issue: { href: issueUrl },
        comments: { href: `${issueUrl}/comments` },
        review_comments: { href: `${api}/comments` },
        review_comment: { href: `${this.repoApi(repo)}/pulls/comments{/number}` },
        commits: { href: `${api}/commits` },
        statuses: { href: `${this.repoApi(repo)}/statuses/${pull.headSha}` },
      },
      author_association: issue.association,
      auto_merge: null,
      draft: pull.draft,
    };
    if (!full) return json;
    return {
      ...json,
      merged: false,
      mergeable: null,
      rebaseable: null,
      mergeable_state: "unknown",
      merged_by: null,
      comments: issue.commentCount,
      review_comments: [...repo.reviews.comments.values()].filter((c) => c.pullNumber === issue.number).length,
      maintainer_can_modify: false,
      commits: pull.commits,
      additions: pull.additions,
      deletions: pull.deletions,
      changed_files: pull.changedFiles,
    };
  }
}
