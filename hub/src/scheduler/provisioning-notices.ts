import type { ThopterRequest } from "@thopter/protocol";
import type { Logger } from "pino";
import type { GitHubClients } from "../github/clients.js";
import { splitRepo } from "../github/issues.js";
import type { DurableComments } from "../requests/durable-comments.js";

/** What the scheduler tells the issue. Both are best effort: a GitHub outage never fails a provision. */
export interface ProvisioningNotices {
  /** 🚀 on the command comment (or the issue, for a command in its body). */
  provisioned(request: ThopterRequest): Promise<void>;
  /** One comment per request, however many of its thopters fail (a retry or restart never posts a second). */
  failed(request: ThopterRequest, text: string): Promise<void>;
}

export function githubProvisioningNotices(
  clients: GitHubClients,
  replies: DurableComments,
  log: Logger,
): ProvisioningNotices {
  return {
    async provisioned(request) {
      const { repo, issueNumber, commentId } = request.source;
      try {
        const client = clients.get(repo);
        if (commentId === null) {
          await client.request("POST /repos/{owner}/{repo}/issues/{issue_number}/reactions", {
            ...splitRepo(repo),
            issue_number: issueNumber,
            content: "rocket",
          });
        } else {
          await client.request("POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", {
            ...splitRepo(repo),
            comment_id: commentId,
            content: "rocket",
          });
        }
      } catch (err) {
        log.warn({ request: request.id, err }, "could not post 🚀 on the command");
      }
    },
    async failed(request, text) {
      const { repo, issueNumber } = request.source;
      const sent = await replies.send(`${request.key}/provision-failed`, repo, issueNumber, text).catch((err) => {
        log.warn({ request: request.id, err }, "could not store the failure comment");
        return false;
      });
      if (!sent) log.warn({ request: request.id }, "failure comment not posted yet; the replies sweep retries it");
    },
  };
}
