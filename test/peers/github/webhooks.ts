import { createHmac, randomUUID } from "node:crypto";
import type { ModelEvent } from "./model.js";
import type { Renderer } from "./render.js";
import { reviewCommentJson, reviewJson } from "./render-review.js";

/**
 * Webhook deliveries as GitHub sends them: `issues` (opened), `issue_comment` (created, edited),
 * `pull_request_review` (submitted) and `pull_request_review_comment` (created), JSON bodies
 * shaped like the vendored real payloads (test/fixtures/github/), signed with HMAC-SHA256 of the exact body bytes.
 * Deliveries go out one at a time, in event order; a failed delivery is recorded, not retried (GitHub does not
 * retry automatically either).
 */

export interface Delivery {
  id: string;
  event: "issues" | "issue_comment" | "pull_request_review" | "pull_request_review_comment";
  action: string;
  /** OpenAPI x-webhooks name, e.g. `issue-comment-created`. */
  schema: string;
  payload: Record<string, unknown>;
  /** HTTP status of the receiver's answer; undefined when the connection failed. */
  status?: number;
  error?: string;
}

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export function payloadFor(event: ModelEvent, render: Renderer): Omit<Delivery, "id"> {
  if (event.kind === "review-comment-created" || event.kind === "review-submitted") return reviewPayload(event, render);
  if (event.kind === "issue-opened") {
    return {
      event: "issues",
      action: "opened",
      schema: "issues-opened",
      payload: {
        action: "opened",
        issue: render.issue(event.issue),
        repository: render.repository(event.issue.repo),
        sender: render.user(event.sender),
      },
    };
  }
  const common = {
    issue: render.issue(event.issue),
    comment: render.comment(event.comment),
    repository: render.repository(event.issue.repo),
    sender: render.user(event.comment.user),
  };
  if (event.kind === "comment-created") {
    return {
      event: "issue_comment",
      action: "created",
      schema: "issue-comment-created",
      payload: { action: "created", ...common },
    };
  }
  return {
    event: "issue_comment",
    action: "edited",
    schema: "issue-comment-edited",
    payload: { action: "edited", changes: { body: { from: event.previousBody } }, ...common },
  };
}

function reviewPayload(
  event: Extract<ModelEvent, { kind: "review-comment-created" | "review-submitted" }>,
  render: Renderer,
): Omit<Delivery, "id"> {
  const common = {
    pull_request: render.pull(event.issue, true),
    repository: render.repository(event.issue.repo),
  };
  if (event.kind === "review-submitted") {
    return {
      event: "pull_request_review",
      action: "submitted",
      schema: "pull-request-review-submitted",
      payload: {
        action: "submitted",
        review: reviewJson(render, event.review),
        ...common,
        sender: render.user(event.review.user),
      },
    };
  }
  return {
    event: "pull_request_review_comment",
    action: "created",
    schema: "pull-request-review-comment-created",
    payload: {
      action: "created",
      comment: reviewCommentJson(render, event.comment),
      ...common,
      sender: render.user(event.comment.user),
    },
  };
}

export class WebhookSender {
  readonly deliveries: Delivery[] = [];
  private target: { url: string; secret: string } | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly hookId = Math.floor(100_000_000 + Math.random() * 100_000_000);

  constructor(
    private readonly render: Renderer,
    private readonly validate: (delivery: Delivery) => void,
  ) {}

  deliverTo(url: string, secret: string): void {
    this.target = { url, secret };
  }

  /** Builds the payload now (so it shows the state at the event) and sends it after earlier deliveries. */
  send(event: ModelEvent): void {
    const target = this.target;
    if (!target) return;
    const delivery: Delivery = { id: randomUUID(), ...payloadFor(event, this.render) };
    this.deliveries.push(delivery);
    this.validate(delivery);
    this.queue = this.queue.then(() => this.post(target, delivery));
  }

  /** Resolves when every delivery made so far has been answered (or failed). */
  settled(): Promise<void> {
    return this.queue;
  }

  private async post(target: { url: string; secret: string }, delivery: Delivery): Promise<void> {
    const body = JSON.stringify(delivery.payload);
    const repository = delivery.payload.repository as { id: number };
    try {
      const response = await fetch(target.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "GitHub-Hookshot/peer",
          "x-github-event": delivery.event,
          "x-github-delivery": delivery.id,
          "x-github-hook-id": String(this.hookId),
          "x-github-hook-installation-target-type": "repository",
          "x-github-hook-installation-target-id": String(repository.id),
          "x-hub-signature": `sha1=${createHmac("sha1", target.secret).update(body).digest("hex")}`,
          "x-hub-signature-256": signature(target.secret, body),
        },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      delivery.status = response.status;
      await response.arrayBuffer();
    } catch (error) {
      delivery.error = error instanceof Error ? error.message : String(error);
    }
  }
}
