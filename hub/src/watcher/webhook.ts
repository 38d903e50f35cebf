import { verify } from "@octokit/webhooks-methods";
import type { RepoFullName } from "@thopter/protocol";
import express, { type Request, type Response, type Router } from "express";
import type { Logger } from "pino";
import type { HubMetrics } from "../metrics.js";
import {
  type CommandEvent,
  commentEvent,
  type GitHubComment,
  type GitHubIssue,
  type GitHubReview,
  issueBodyEvent,
  reviewEvent,
} from "./event.js";

interface WebhookPayload {
  action?: string;
  repository?: { full_name?: string };
  issue?: GitHubIssue;
  comment?: GitHubComment;
  pull_request?: { number: number; title: string };
  review?: GitHubReview;
}

const KNOWN_EVENTS = ["issue_comment", "issues", "pull_request_review", "pull_request_review_comment", "ping"];

/**
 * GitHub counts a delivery not answered within 10 s as failed. The intake answers in milliseconds, unless its 👀
 * waits behind the hub's other writes (GitHub wants them ≥ 1 s apart): then the delivery is answered by this time
 * and the intake goes on (the poller sees the same comment, so nothing depends on that answer).
 */
const ANSWER_WITHIN_MS = 8_000;

export interface WebhookDeps {
  secret: string;
  /** The configured spelling of a repository, or undefined when the hub does not serve it. */
  resolveRepo: (fullName: string) => RepoFullName | undefined;
  handle: (event: CommandEvent) => Promise<unknown>;
  metrics: HubMetrics;
  log: Logger;
  /**
   * Told of each delivery's signature check, with the configured repository its body names (undefined: none): a bad
   * one means GITHUB_WEBHOOK_SECRET and the webhook's secret differ (shown on /healthz until a good one arrives).
   */
  onSignature?: (good: boolean, repo: RepoFullName | undefined) => void;
  /** ANSWER_WITHIN_MS unless a test says otherwise. */
  answerWithinMs?: number;
}

/**
 * `POST /github/webhook`: verifies `X-Hub-Signature-256` over the raw body (constant time, @octokit/webhooks-methods)
 * before reading anything, then turns `issue_comment` created, `issues` opened, `pull_request_review_comment`
 * created and `pull_request_review` submitted into the same events the poller makes. It answers after the intake has handled the event (or after ANSWER_WITHIN_MS, whichever is first);
 * anything the hub does not act on gets a 202.
 */
export function webhookRouter(deps: WebhookDeps): Router {
  const router = express.Router();
  router.post("/github/webhook", express.raw({ type: () => true, limit: "5mb" }), async (req, res) => {
    const header = req.header("x-github-event") ?? "";
    // The header is not authenticated yet: only known names become a metrics label.
    const event = KNOWN_EVENTS.includes(header) ? header : "other";
    const outcome = await deliver(deps, req, res, event).catch((err: unknown) => {
      deps.log.error({ err, event, delivery: req.header("x-github-delivery") }, "webhook delivery failed");
      if (!res.headersSent)
        res.status(500).json({ error: "the hub could not process this delivery; it will be retried by polling" });
      return "error";
    });
    deps.metrics.webhookDeliveries.inc({ event, outcome });
  });
  return router;
}

async function deliver(deps: WebhookDeps, req: Request, res: Response, event: string): Promise<string> {
  const raw = Buffer.isBuffer(req.body) ? req.body.toString("utf8") : "";
  const signature = req.header("x-hub-signature-256") ?? "";
  if (!signature || !(await verify(deps.secret, raw, signature).catch(() => false))) {
    deps.onSignature?.(false, namedRepo(deps, raw));
    deps.log.warn({ event, delivery: req.header("x-github-delivery") }, "webhook refused: bad or missing signature");
    res.status(401).json({ error: "bad or missing X-Hub-Signature-256" });
    return "bad-signature";
  }
  let payload: WebhookPayload;
  try {
    payload = JSON.parse(raw) as WebhookPayload;
  } catch {
    res.status(400).json({ error: "the body is not JSON: set the webhook's content type to application/json" });
    return "bad-body";
  }
  deps.onSignature?.(true, deps.resolveRepo(payload.repository?.full_name ?? ""));
  if (event === "ping") {
    res.status(200).json({ ok: true });
    return "ping";
  }
  const fullName = payload.repository?.full_name ?? "";
  const repo = deps.resolveRepo(fullName);
  if (!repo) {
    deps.log.info({ event, repo: fullName }, "webhook ignored: repository not configured");
    res.status(202).json({ ignored: `repository ${fullName || "(none)"} is not configured on this hub` });
    return "unknown-repo";
  }
  const commandEvent = toEvent(repo, event, payload);
  if (!commandEvent) {
    res.status(202).json({ ignored: `${event}${payload.action ? `.${payload.action}` : ""} is not a command event` });
    return "ignored";
  }
  const handled = deps.handle(commandEvent);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), deps.answerWithinMs ?? ANSWER_WITHIN_MS);
  });
  const result = await Promise.race([handled, late]).finally(() => clearTimeout(timer));
  if (result === "late") {
    handled.catch((err: unknown) =>
      deps.log.error({ err, event }, "webhook command failed after its delivery was answered"),
    );
    res.status(202).json({ accepted: "still working on it; the result shows on the issue" });
    return "answered-early";
  }
  res.status(200).json({ result });
  return "handled";
}

/** The configured repository an unverified body names, only to say where the mismatch is; never acted on. */
function namedRepo(deps: WebhookDeps, raw: string): RepoFullName | undefined {
  try {
    return deps.resolveRepo((JSON.parse(raw) as WebhookPayload).repository?.full_name ?? "");
  } catch {
    return undefined;
  }
}

function toEvent(repo: RepoFullName, event: string, p: WebhookPayload): CommandEvent | undefined {
  const pull = p.pull_request;
  if (event === "pull_request_review_comment" && p.action === "created" && p.comment && pull) {
    return commentEvent(repo, "webhook", pull.number, p.comment, pull.title, "review-comment");
  }
  if (event === "pull_request_review" && p.action === "submitted" && p.review && pull) {
    return reviewEvent(repo, "webhook", pull.number, p.review, pull.title);
  }
  if (!p.issue) return undefined;
  if (event === "issue_comment" && p.action === "created" && p.comment) {
    const made = commentEvent(repo, "webhook", p.issue.number, p.comment, p.issue.title);
    return made && { ...made, onPull: Boolean(p.issue.pull_request) };
  }
  if (event === "issues" && p.action === "opened") return issueBodyEvent(repo, "webhook", p.issue);
  return undefined;
}
