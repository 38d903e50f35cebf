import { randomInt } from "node:crypto";
/**
 * The GitHub peer's in-memory state: users, repositories, issues (pull requests are issues too, as on GitHub),
 * comments and reactions. No HTTP here; the routes read and change this, and seeding calls it directly.
 * Timestamps have whole seconds, like GitHub's.
 */

import { emptyReviews, type RepoReviews, type Review, type ReviewComment } from "./review-model.js";

export const ASSOCIATIONS = [
  "OWNER",
  "MEMBER",
  "COLLABORATOR",
  "CONTRIBUTOR",
  "FIRST_TIMER",
  "FIRST_TIME_CONTRIBUTOR",
  "MANNEQUIN",
  "NONE",
] as const;
export type Association = (typeof ASSOCIATIONS)[number];

export const REACTION_CONTENTS = ["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"] as const;
export type ReactionContent = (typeof REACTION_CONTENTS)[number];

export interface User {
  login: string;
  id: number;
  type: "User" | "Bot";
  createdAt: Date;
}

export interface Reaction {
  id: number;
  user: User;
  content: ReactionContent;
  createdAt: Date;
}

export interface Comment {
  id: number;
  repo: Repo;
  issueNumber: number;
  body: string;
  user: User;
  association: Association;
  createdAt: Date;
  updatedAt: Date;
  reactions: Reaction[];
}

export interface Pull {
  id: number;
  head: string;
  headSha: string;
  base: string;
  baseSha: string;
  draft: boolean;
  commits: number;
  additions: number;
  deletions: number;
  changedFiles: number;
}

export interface Issue {
  id: number;
  number: number;
  repo: Repo;
  title: string;
  body: string;
  user: User;
  association: Association;
  state: "open" | "closed";
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
  commentCount: number;
  reactions: Reaction[];
  pull?: Pull;
}

export interface Repo {
  id: number;
  owner: User;
  name: string;
  fullName: string;
  defaultBranch: string;
  createdAt: Date;
  /** Set by the git bridge after each accepted push. */
  pushedAt: Date;
  issues: Map<number, Issue>;
  comments: Map<number, Comment>;
  /** Reviews, line comments, check runs and statuses (review-model.ts). */
  reviews: RepoReviews;
}

/** What the webhook sender listens to. */
export type ModelEvent =
  | { kind: "issue-opened"; issue: Issue; sender: User }
  | { kind: "comment-created"; comment: Comment; issue: Issue }
  | { kind: "comment-edited"; comment: Comment; issue: Issue; previousBody: string }
  | { kind: "review-comment-created"; comment: ReviewComment; issue: Issue }
  | { kind: "review-submitted"; review: Review; issue: Issue };

export interface IssueInput {
  title: string;
  body?: string;
  author: string;
  association?: Association;
}

export interface CommentInput {
  body: string;
  author: string;
  association?: Association;
}

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/;
const REPO_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** Real-looking id ranges, so nothing accidentally relies on small numbers. */
const ID_BASE = {
  user: 1_000_000,
  repo: 500_000_000,
  issue: 2_000_000_000,
  comment: 3_000_000_000,
  reaction: 150_000_000,
  pull: 1_800_000_000,
  review: 2_500_000_000,
  /** The same range as issue comments on purpose: the two id spaces overlap on GitHub too. */
  reviewComment: 3_000_000_000,
  check: 20_000_000_000,
  status: 30_000_000_000,
};

export class Model {
  readonly users = new Map<string, User>();
  readonly repos = new Map<string, Repo>();
  readonly comments = new Map<number, Comment>();
  /**
   * Each peer starts its ids at its own random offset, as two GitHub repositories never share comment ids: thopter
   * ids derive from a command's comment, so two test worlds running at once on one host (each a hub making a user
   * `thopter-<id>`) never make the same thopter.
   */
  private readonly ids = Object.fromEntries(
    Object.entries(ID_BASE).map(([kind, base]) => [kind, base + randomInt(1_000_000) * 10]),
  ) as typeof ID_BASE;
  private readonly listeners: ((event: ModelEvent) => void)[] = [];

  constructor(private readonly clock: () => Date) {}

  /** Now, to the whole second. */
  now(): Date {
    return new Date(Math.floor(this.clock().getTime() / 1000) * 1000);
  }

  nextId(kind: keyof typeof ID_BASE): number {
    this.ids[kind] += 1;
    return this.ids[kind];
  }

  onEvent(listener: (event: ModelEvent) => void): void {
    this.listeners.push(listener);
  }

  emit(event: ModelEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** The user with this login, created on first mention (`…[bot]` logins are bots). */
  user(login: string): User {
    let user = this.users.get(login);
    if (!user) {
      if (!LOGIN.test(login)) throw new Error(`GitHub peer: "${login}" is not a valid GitHub login`);
      user = { login, id: this.nextId("user"), type: login.endsWith("[bot]") ? "Bot" : "User", createdAt: this.now() };
      this.users.set(login, user);
    }
    return user;
  }

  repo(fullName: string): Repo {
    const repo = this.repos.get(fullName);
    if (!repo) throw new Error(`GitHub peer: no repository ${fullName}; seed it with addRepo first`);
    return repo;
  }

  addRepo(fullName: string, defaultBranch: string): Repo {
    const [owner, name, extra] = fullName.split("/");
    if (!owner || !name || extra !== undefined || !REPO_NAME.test(name)) {
      throw new Error(`GitHub peer: repository must be "owner/name", got "${fullName}"`);
    }
    if (this.repos.has(fullName)) throw new Error(`GitHub peer: repository ${fullName} already exists`);
    const repo: Repo = {
      id: this.nextId("repo"),
      owner: this.user(owner),
      name,
      fullName,
      defaultBranch,
      createdAt: this.now(),
      pushedAt: this.now(),
      issues: new Map(),
      comments: new Map(),
      reviews: emptyReviews(),
    };
    this.repos.set(fullName, repo);
    return repo;
  }

  issue(repo: Repo, number: number): Issue | undefined {
    return repo.issues.get(number);
  }

  createIssue(repo: Repo, input: IssueInput, pull?: Pull): Issue {
    if (!input.title?.trim()) throw new Error(`GitHub peer: an issue in ${repo.fullName} needs a non-empty title`);
    const at = this.now();
    const issue: Issue = {
      id: this.nextId("issue"),
      number: repo.issues.size + 1,
      repo,
      title: input.title,
      body: input.body ?? "",
      user: this.user(input.author),
      association: input.association ?? "NONE",
      state: "open",
      createdAt: at,
      updatedAt: at,
      closedAt: null,
      commentCount: 0,
      reactions: [],
      pull,
    };
    repo.issues.set(issue.number, issue);
    if (!pull) this.emit({ kind: "issue-opened", issue, sender: issue.user });
    return issue;
  }

  addComment(issue: Issue, input: CommentInput): Comment {
    const at = this.now();
    const comment: Comment = {
      id: this.nextId("comment"),
      repo: issue.repo,
      issueNumber: issue.number,
      body: input.body,
      user: this.user(input.author),
      association: input.association ?? "NONE",
      createdAt: at,
      updatedAt: at,
      reactions: [],
    };
    issue.repo.comments.set(comment.id, comment);
    this.comments.set(comment.id, comment);
    issue.commentCount += 1;
    issue.updatedAt = at;
    this.emit({ kind: "comment-created", comment, issue });
    return comment;
  }

  comment(id: number): Comment {
    const comment = this.comments.get(id);
    if (!comment) throw new Error(`GitHub peer: no comment ${id}`);
    return comment;
  }

  /** Changes the body and bumps `updated_at`, as an edit on GitHub does. */
  editComment(id: number, body: string): Comment {
    const comment = this.comment(id);
    const previousBody = comment.body;
    comment.body = body;
    comment.updatedAt = this.now();
    const issue = comment.repo.issues.get(comment.issueNumber)!;
    this.emit({ kind: "comment-edited", comment, issue, previousBody });
    return comment;
  }

  deleteComment(id: number): void {
    const comment = this.comment(id);
    comment.repo.comments.delete(id);
    this.comments.delete(id);
    const issue = comment.repo.issues.get(comment.issueNumber);
    if (issue) issue.commentCount -= 1;
  }

  /** Adds a reaction unless this user already reacted with this content; `created` says which. */
  react(
    target: { reactions: Reaction[] },
    user: User,
    content: ReactionContent,
  ): { reaction: Reaction; created: boolean } {
    const existing = target.reactions.find((r) => r.user === user && r.content === content);
    if (existing) return { reaction: existing, created: false };
    const reaction: Reaction = { id: this.nextId("reaction"), user, content, createdAt: this.now() };
    target.reactions.push(reaction);
    return { reaction, created: true };
  }
}
