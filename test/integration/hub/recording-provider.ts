import { performance } from "node:perf_hooks";
import type { MachineInfo, MachineOwner, Provider } from "@thopter/hub/providers/provider";
import type { MachineRef, ThopterSpec } from "@thopter/protocol";

/**
 * The provider contract with nothing behind it: `create` notes which thopter it was asked for and when, and hands
 * back a running machine at once. For measuring and checking the hub's way from a command to `provider.create`.
 */
export class RecordingProvider implements Provider {
  readonly kind = "local" as const;
  readonly isolation = "full" as const;
  /** Every `create` call, in order: the thopter and `performance.now()` at the call. */
  readonly creates: { thopterId: string; at: number }[] = [];
  /** The spec of every `create` call, in order (its files hold the thopter's secrets). */
  readonly specs: ThopterSpec[] = [];
  private readonly machines = new Map<string, MachineInfo>();
  private waiting: ((at: number) => void) | undefined;

  /** Resolves with the `performance.now()` of the next `create` call. */
  nextCreate(): Promise<number> {
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  async create(spec: ThopterSpec, owner: MachineOwner): Promise<MachineRef> {
    const at = performance.now();
    this.specs.push(spec);
    this.creates.push({ thopterId: owner.thopterId, at });
    this.waiting?.(at);
    this.waiting = undefined;
    const ref = { provider: "local" as const, id: `m-${owner.thopterId}` };
    const info = { ...owner, ref, state: "running" as const, detail: "recorded", createdAt: new Date().toISOString() };
    this.machines.set(ref.id, info);
    return ref;
  }

  async destroy(ref: MachineRef): Promise<void> {
    this.machines.delete(ref.id);
  }

  async list(): Promise<MachineInfo[]> {
    return [...this.machines.values()];
  }

  async status(ref: MachineRef): Promise<MachineInfo["state"]> {
    return this.machines.get(ref.id)?.state ?? "gone";
  }
}
