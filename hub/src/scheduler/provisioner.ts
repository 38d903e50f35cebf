import { type MachineRef, type ThopterRequest, type ThopterSpec, workBranch } from "@thopter/protocol";
import type { Logger } from "pino";
import type { TokenStore } from "../collector/tokens.js";
import type { Provider } from "../providers/provider.js";
import type { Registry } from "../registry/index.js";
import { provisionFailedText } from "./messages.js";
import type { ProvisioningNotices } from "./provisioning-notices.js";
import type { SpecInput } from "./spec.js";

export interface ProvisionerDeps {
  registry: Registry;
  tokens: TokenStore;
  provider: Provider;
  provisioningNotices: ProvisioningNotices;
  buildSpec(input: SpecInput): Promise<ThopterSpec>;
  log: Logger;
}

/** The provider as provisioning last found it: `failing` after a failed create, `ok` after one that worked. */
export interface ProviderHealth {
  kind: Provider["kind"];
  state: "ok" | "failing";
  detail?: string;
  since: string;
}

/**
 * Makes one thopter of a request: record, tokens, spec, machine, `booting`. A record found already (a previous run
 * stopped mid-provision) has whatever that run made removed first: it may hold stale tokens. A failure leaves no
 * machine, volume or valid token behind, and one comment on the request's issue.
 */
export class Provisioner {
  health: ProviderHealth;

  constructor(private readonly deps: ProvisionerDeps) {
    this.health = { kind: deps.provider.kind, state: "ok", since: new Date().toISOString() };
  }

  async provision(request: ThopterRequest, id: string, index: number): Promise<void> {
    const { registry, provider, tokens, log } = this.deps;
    const { repo, issueNumber } = request.source;
    const command = request.command.kind === "start" ? request.command : undefined;
    let step = "recording the thopter";
    let made: MachineRef | undefined;
    try {
      let record = registry.get(id);
      if (record) {
        await this.removeLeftovers(id);
      } else {
        record = await registry.create(
          {
            id,
            requestId: request.id,
            repo,
            issueNumber,
            issueTitle: request.issueTitle,
            // A follow-up on a thopter's PR continues that PR's branch; the clone resumes from its tip.
            branch: request.followUp?.branch ?? workBranch(issueNumber, id),
            ...(request.followUp?.tipSha ? { startTip: request.followUp.tipSha } : {}),
            gc: command?.gc ?? "default",
            prompt: command?.prompt ?? "default",
            state: "requested",
            machine: null,
          },
          `requested by @${request.source.author} (${index + 1} of ${command?.count ?? 1})`,
        );
      }
      if (record.state === "requested")
        await registry.transition(id, "provisioning", `creating a ${provider.kind} machine`);
      step = "minting its collector tokens";
      const minted = await tokens.mint(id);
      step = "building its spec";
      const spec = await this.deps.buildSpec({ record, request, tokens: minted });
      step = "creating its machine";
      const started = Date.now();
      made = await provider.create(spec, { thopterId: id, repo, issueNumber });
      this.setHealth("ok");
      step = "recording the thopter";
      await registry.transition(id, "booting", `machine ${made.id} started`, { machine: made });
      log.info(
        { thopterId: id, request: request.id, machine: made.id, ms: Date.now() - started },
        "thopter provisioned",
      );
    } catch (err) {
      if (step === "creating its machine") this.setHealth("failing", (err as Error).message);
      await this.fail(request, id, step, err, made);
    }
  }

  /** Destroys any machine the provider has for this thopter, and forgets it on the record. */
  private async removeLeftovers(id: string): Promise<void> {
    const { registry, provider, log } = this.deps;
    for (const machine of (await provider.list()).filter((m) => m.thopterId === id && m.state !== "gone")) {
      log.warn({ thopterId: id, machine: machine.ref.id }, "removing a machine left by an interrupted provision");
      await provider.destroy(machine.ref);
    }
    if (registry.get(id)?.machine) await registry.setMachine(id, null, "machine of an interrupted provision removed");
  }

  private async fail(
    request: ThopterRequest,
    id: string,
    step: string,
    err: unknown,
    made?: MachineRef,
  ): Promise<void> {
    const { registry, provider, tokens, provisioningNotices, log } = this.deps;
    const reason = `${step} failed: ${err instanceof Error ? err.message : String(err)}`;
    log.error({ thopterId: id, request: request.id, step, err }, "provisioning failed");
    // Nothing half-made stays behind: no machine, no volume, no valid token.
    const cleanup = made
      ? provider.destroy(made)
      : // A provider cleans up after a failed create; if that cleanup failed too, what it left is found by listing.
        step === "creating its machine"
        ? this.removeLeftovers(id)
        : Promise.resolve();
    await cleanup.catch((e) => log.error({ thopterId: id, err: e }, "cleanup after a failed provision failed"));
    await tokens.revoke(id).catch(() => {});
    const record = registry.get(id);
    if (record && record.state !== "failed") {
      await registry
        .transition(id, "failed", reason)
        .catch((e) => log.error({ thopterId: id, err: e }, "could not record the failure"));
    }
    await provisioningNotices.failed(request, provisionFailedText(id, step, reason));
  }

  private setHealth(state: ProviderHealth["state"], detail?: string): void {
    if (this.health.state === state && this.health.detail === detail) return;
    const since = this.health.state === state ? this.health.since : new Date().toISOString();
    this.health = { kind: this.deps.provider.kind, state, detail, since };
  }
}
