import type { Issue, Model } from "./model.js";
import type { Renderer } from "./render.js";
import { checkRunJson, reviewCommentJson, reviewJson, statusJson } from "./render-review.js";
import type { CheckRunInput, ReviewActions, ReviewCommentInput, ReviewInput, StatusInput } from "./review-model.js";

/**
 * The peer's test helpers for pull requests (`peer.reviews`): a person reviewing, CI reporting. Each returns the REST
 * object and sends the webhook GitHub would (`pull_request_review` / `pull_request_review_comment`).
 */
export class ReviewControls {
  constructor(
    private readonly model: Model,
    private readonly actions: ReviewActions,
    private readonly render: Renderer,
  ) {}

  private pull(repo: string, number: number): Issue {
    const issue = this.model.issue(this.model.repo(repo), number);
    if (!issue?.pull) throw new Error(`GitHub peer: ${repo} has no pull request #${number}`);
    return issue;
  }

  /** A comment on `line` of `path` on the PR's head (in a single-comment review); throws if the line is not in the diff. */
  async addComment(repo: string, pullNumber: number, input: ReviewCommentInput): Promise<Record<string, unknown>> {
    const comment = await this.actions.addComment(this.pull(repo, pullNumber), input);
    if (!comment) throw new Error(`GitHub peer: ${input.path}:${input.line} is not part of #${pullNumber}'s diff`);
    return reviewCommentJson(this.render, comment);
  }

  /** A submitted review (default state COMMENTED) of the PR's current head. */
  async submitReview(repo: string, pullNumber: number, input: ReviewInput): Promise<Record<string, unknown>> {
    const issue = this.pull(repo, pullNumber);
    return reviewJson(this.render, this.actions.addReview(issue, input, await this.actions.headOf(issue)));
  }

  /** A check run on the head of `ref` (conclusion `null` leaves it in progress). */
  async addCheckRun(repo: string, input: CheckRunInput): Promise<Record<string, unknown>> {
    return checkRunJson(this.render, await this.actions.addCheckRun(this.model.repo(repo), input));
  }

  async addStatus(repo: string, input: StatusInput): Promise<Record<string, unknown>> {
    return statusJson(this.render, await this.actions.addStatus(this.model.repo(repo), input));
  }

  /** Line comments on a PR, oldest first. */
  comments(repo: string, pullNumber: number): Record<string, unknown>[] {
    return [...this.model.repo(repo).reviews.comments.values()]
      .filter((c) => c.pullNumber === pullNumber)
      .map((c) => reviewCommentJson(this.render, c));
  }
}
