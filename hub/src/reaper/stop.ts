import type { Logger } from "pino";
import type { TokenStore } from "../collector/tokens.js";
import type { Provider } from "../providers/provider.js";
import type { Registry } from "../registry/index.js";

export interface StopDeps {
  registry: Registry;
  provider: Provider;
  tokens: TokenStore;
  /** The thopter's GitHub App tokens, revoked with its collector tokens (absent without an App). */
  githubTokens?: { revoke(thopterId: string): Promise<void> };
  log: Logger;
}

/**
 * Stops thopters: `stopping` (durably, so a restart finishes the job), tokens revoked, machine and volume destroyed,
 * then `gone`. A destroy that fails leaves the thopter `stopping`; calling `stop` again (the reaper does) retries.
 */
export class Stopper {
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly deps: StopDeps) {}

  stop(thopterId: string, reason: string): Promise<void> {
    let running = this.inFlight.get(thopterId);
    if (!running) {
      running = this.run(thopterId, reason).finally(() => this.inFlight.delete(thopterId));
      this.inFlight.set(thopterId, running);
    }
    return running;
  }

  private async run(thopterId: string, reason: string): Promise<void> {
    const { registry, provider, tokens, log } = this.deps;
    const record = registry.get(thopterId);
    if (!record || record.state === "gone") return;
    if (record.state !== "stopping") await registry.transition(thopterId, "stopping", reason);
    await tokens.revoke(thopterId);
    await this.deps.githubTokens?.revoke(thopterId);
    if (record.machine) {
      await provider.destroy(record.machine);
      log.info({ thopterId, machine: record.machine.id, reason }, "thopter stopped; machine and volume destroyed");
    }
    await registry.transition(thopterId, "gone", record.machine ? `machine ${record.machine.id} destroyed` : "stopped");
  }
}
