import { expiryWarnings } from "@thopter/protocol";
import type { Machine } from "../../types.js";
import type { Ops } from "../context.js";
import { age } from "../fleet.js";
import { mergeProfiles, readProfiles } from "../profiles.js";
import { hubProfiles } from "./hub.js";

type Group = "hub" | "metadata" | "golden claudes" | "thopters" | "other";

function groupOf(machine: Machine): Group {
  const metadata = machine.config?.metadata ?? {};
  if (metadata.thopter === "1") return "thopters";
  if (metadata.role === "hub") return "hub";
  if (metadata.role === "metadata") return "metadata";
  if (metadata.role === "golden-claude") return "golden claudes";
  return "other";
}

function describe(machine: Machine, now: Date): string {
  const metadata = machine.config?.metadata ?? {};
  let extra = "";
  if (metadata.thopter === "1") extra = ` ${metadata.repo ?? "?"}#${metadata.issue ?? "?"}`;
  else if (metadata.snapshot_at) extra = ` snapshot ${age(metadata.snapshot_at, now)} old`;
  // The hub refuses `-g NAME` until there is a snapshot to start thopters from.
  else if (metadata.role === "golden-claude") extra = ` no snapshot yet: run \`pnpm fly snapshot-gc ${metadata.gc}\``;
  return `  ${machine.name ?? "?"}  ${machine.id}  ${machine.state}  ${machine.region ?? ""}  age ${age(machine.created_at, now)}${extra}`;
}

/** `status`: hub, metadata, golden claudes, thopters and anything else in the app, with states and ages. */
export async function status(ops: Ops): Promise<number> {
  const now = ops.now();
  const machines = (await ops.fly().listMachines()).filter((m) => !["destroying", "destroyed"].includes(m.state ?? ""));
  const groups: Group[] = ["hub", "metadata", "golden claudes", "thopters", "other"];
  for (const group of groups) {
    const members = machines.filter((m) => groupOf(m) === group);
    if (group === "other" && members.length === 0) continue;
    ops.say(`${group} (${members.length})${members.length === 0 && group !== "thopters" ? ": none" : ""}`);
    for (const machine of members) ops.say(describe(machine, now));
  }
  const hub = machines.find((m) => groupOf(m) === "hub");
  const profiles = mergeProfiles(hub ? hubProfiles(hub) : [], readProfiles(ops));
  if (profiles.length > 0) ops.say(`stored profiles: ${profiles.map((p) => p.name).join(", ")}`);
  const warnings = expiryWarnings(profiles, now);
  for (const warning of warnings) ops.say(`warning: ${warning.message}`);
  return 0;
}
