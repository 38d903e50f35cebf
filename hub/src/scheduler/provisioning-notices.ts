import type { ThopterRequest } from "@thopter/protocol";
import type { Logger } from "pino";
import type { GitHubClients } from "../github/clients.js";
import { react } from "../github/issues.js";
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
      try {
        await react(clients.get(request.source.repo), request.source, "rocket");
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
