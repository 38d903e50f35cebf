import { type ThopterState, workBranch } from "@thopter/protocol";
import type { Logger } from "pino";
import type { MachineInfo, Provider } from "../providers/provider.js";
import type { Registry } from "./registry.js";

export interface ReconcileReport {
  /** Machines whose metadata named a thopter the hub had no record of: a record was made for each. */
  adopted: string[];
  /** Records that had no machine yet (the hub stopped mid-provision) and now point at the one found. */
  attached: string[];
  /** Records whose machine no longer exists, now `gone`. */
  gone: string[];
  /** Records still being provisioned whose machine is gone (removed as a leftover): provisioned again. */
  detached: string[];
  /** Machines the hub does not expect: their thopter is gone, or it already has another machine. Destroy them. */
  flagged: Array<{ machine: MachineInfo; reason: string }>;
}

/** States in which a record may not have a machine yet; the scheduler resumes or cleans these up. */
const UNPROVISIONED: readonly ThopterState[] = ["requested", "provisioning"];

/**
 * Brings the registry in line with what the provider really runs (called on start, before scheduling).
 * The provider's list is the truth about machines; the registry is the truth about what they were for.
 */
export async function reconcile(registry: Registry, provider: Provider, log: Logger): Promise<ReconcileReport> {
  const report: ReconcileReport = { adopted: [], attached: [], gone: [], detached: [], flagged: [] };
  const live = (await provider.list()).filter((m) => m.state !== "gone");
  const liveIds = new Set(live.map((m) => m.ref.id));

  for (const machine of live) {
    const record = registry.get(machine.thopterId);
    if (!record) {
      // Its metadata says it is ours; keep it visible (and reapable) rather than silently running on.
      const running = machine.state === "starting" || machine.state === "running";
      await registry.create(
        {
          id: machine.thopterId,
          requestId: "adopted",
          repo: machine.repo,
          issueNumber: machine.issueNumber,
          issueTitle: "",
          branch: workBranch(machine.issueNumber, machine.thopterId),
          gc: "default",
          prompt: "default",
          state: running ? "waiting" : "failed",
          stateReason: `adopted: machine ${machine.ref.id} (${machine.detail}) was running without a record in the hub`,
          machine: machine.ref,
        },
        `adopted machine ${machine.ref.id} found at start`,
      );
      report.adopted.push(machine.thopterId);
    } else if (record.state === "gone") {
      report.flagged.push({
        machine,
        reason: `thopter ${record.id} is gone but machine ${machine.ref.id} still exists`,
      });
    } else if (record.machine === null) {
      await registry.setMachine(record.id, machine.ref, `machine ${machine.ref.id} found at start`);
      report.attached.push(record.id);
    } else if (record.machine.id !== machine.ref.id) {
      report.flagged.push({
        machine,
        reason: `thopter ${record.id} already has machine ${record.machine.id}; ${machine.ref.id} is a second one`,
      });
    }
  }

  for (const record of registry.list()) {
    // A record made under another provider (PROVIDER changed) cannot be checked against this one's list.
    if (record.state === "gone" || (record.machine !== null && record.machine.provider !== provider.kind)) continue;
    if (record.machine !== null && !liveIds.has(record.machine.id) && UNPROVISIONED.includes(record.state)) {
      // Never booted: the machine was removed as a leftover by a hub that died before recording it. Not a thopter
      // that ended, a provision to do again (the scheduler resumes it).
      await registry.setMachine(record.id, null, `machine ${record.machine.id} of an interrupted provision is gone`);
      report.detached.push(record.id);
    } else if (record.machine !== null && !liveIds.has(record.machine.id)) {
      await registry.transition(record.id, "gone", `machine ${record.machine.id} no longer exists`);
      report.gone.push(record.id);
    } else if (record.machine === null && !UNPROVISIONED.includes(record.state)) {
      await registry.transition(record.id, "gone", "no machine");
      report.gone.push(record.id);
    }
  }

  const { adopted, attached, gone, detached, flagged } = report;
  if (adopted.length + gone.length + detached.length + flagged.length + attached.length > 0) {
    log.warn(
      {
        adopted,
        attached,
        gone,
        detached,
        flagged: flagged.map((f) => f.reason),
      },
      "registry reconciled with provider",
    );
  }
  return report;
}
