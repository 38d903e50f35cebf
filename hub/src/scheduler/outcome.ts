import type { ThopterRequest } from "@thopter/protocol";
import type { Logger } from "pino";
import type { Registry } from "../registry/index.js";
import type { RequestQueue } from "../requests/queue.js";
import { NO_THOPTER_REASON, noThopterText, partlyStarted } from "./messages.js";
import type { ProvisioningNotices } from "./provisioning-notices.js";

/**
 * Records how a start request ended once all its thopters are placed. The invariant it keeps: every accepted command
 * ends in a thopter (🚀) or a comment saying why not. Each GitHub write comes before the state it leads to, so a
 * crash in between repeats it (GitHub keeps one 🚀 per user; the comment is one reply per request), and a store write
 * that fails never makes it repeat in this run.
 */
export class Outcomes {
  /** Requests whose 🚀 or failure comment is out but whose state is not written yet. */
  private readonly told = new Set<string>();

  constructor(
    private readonly deps: {
      queue: RequestQueue;
      registry: Registry;
      provisioningNotices: ProvisioningNotices;
      log: Logger;
    },
  ) {}

  async finish(request: ThopterRequest, ids: readonly string[]): Promise<void> {
    const { queue, registry, provisioningNotices } = this.deps;
    const records = ids.map((id) => registry.get(id));
    const running = records.filter((r) => r && r.state !== "failed" && r.state !== "gone").length;
    if (running > 0) {
      if (!this.told.has(request.id)) await provisioningNotices.provisioned(request);
      this.told.add(request.id);
      await queue.update(request.id, {
        state: "provisioned",
        stateReason: running < ids.length ? partlyStarted(running, ids.length) : undefined,
      });
    } else {
      const reason = records.find((r) => r?.stateReason)?.stateReason ?? NO_THOPTER_REASON;
      // A failed step has said so already under the same reply key; a thopter that ended otherwise has not.
      if (!this.told.has(request.id)) await provisioningNotices.failed(request, noThopterText(reason));
      this.told.add(request.id);
      await queue.update(request.id, { state: "failed", stateReason: reason });
    }
    this.told.delete(request.id);
  }
}
