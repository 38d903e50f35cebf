import type { ThopterRequest } from "@thopter/protocol";
import type { Logger } from "pino";
import type { GitHubClients } from "../github/clients.js";
import { react } from "../github/issues.js";
import { isGone } from "../github/octokit.js";
import type { RequestQueue } from "./queue.js";

/**
 * Posts 👀 on a stored request's command, then marks it acknowledged. A crash in between only means the reaction is
 * posted again at the next start (GitHub keeps one reaction per user and content), never that it is lost.
 */
export class Acknowledger {
  private readonly inFlight = new Set<string>();
  /** Requests whose 👀 is on GitHub but whose store write failed: a retry writes again, never posts again. */
  private readonly posted = new Set<string>();
  /** Set when an acknowledgement failed; cleared by a `recover()` that leaves nothing behind. */
  private failed = false;

  constructor(
    private readonly queue: RequestQueue,
    private readonly clients: GitHubClients,
    private readonly log: Logger,
  ) {}

  /** True when acknowledged (now or before); false when GitHub or the store failed and a later `recover()` must retry. */
  async acknowledge(request: ThopterRequest): Promise<boolean> {
    const ok = await this.attempt(request);
    if (!ok) this.failed = true;
    return ok;
  }

  /** True when some 👀 could not be posted or recorded and `recover()` has work. */
  get pending(): boolean {
    return this.failed;
  }

  private async attempt(request: ThopterRequest): Promise<boolean> {
    if (request.acknowledged) return true;
    if (this.inFlight.has(request.id)) return true;
    this.inFlight.add(request.id);
    const ctx = { request: request.id, key: request.key };
    try {
      if (!this.posted.has(request.id)) {
        if (!(await this.postEyes(request))) return false;
        this.posted.add(request.id);
      }
      await this.queue.markAcknowledged(request.id);
      this.posted.delete(request.id);
      this.log.info(ctx, "request acknowledged with 👀");
      return true;
    } catch (err) {
      this.log.warn({ ...ctx, part: "store", err }, "👀 is posted but the store write failed; will retry the write");
      return false;
    } finally {
      this.inFlight.delete(request.id);
    }
  }

  /** Acknowledges every stored request that is not yet (after a crash, or a GitHub outage). Returns how many are left. */
  async recover(): Promise<number> {
    let left = 0;
    for (const request of await this.queue.list()) {
      if (!request.acknowledged && !(await this.attempt(request))) left++;
    }
    this.failed = left > 0;
    return left;
  }

  /** True when the 👀 is on the command (or the command is gone); false when GitHub failed. */
  private async postEyes(request: ThopterRequest): Promise<boolean> {
    try {
      await react(this.clients.get(request.source.repo), request.source, "eyes");
      return true;
    } catch (err) {
      const ctx = { request: request.id, key: request.key };
      if (isGone(err)) {
        // The command comment was deleted: there is nothing left to react to, and retrying forever helps no one.
        this.log.warn(ctx, "command comment is gone; request kept without 👀");
        return true;
      }
      this.log.warn({ ...ctx, part: "github", err }, "could not post 👀 (GitHub failed); will retry");
      return false;
    }
  }
}
