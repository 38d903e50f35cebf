import { FlyApiError, isWaitTimeout } from "../errors.js";
import type { Machine } from "../types.js";
import type { Ops } from "./context.js";
import { SettingError } from "./settings.js";

/** Machine metadata `role` of the machines the CLI manages; thopters carry `thopter=1` instead (set by the hub). */
export type Role = "hub" | "metadata" | "golden-claude";

export const HUB_NAME = "hub";
export const METADATA_NAME = "metadata";
export const gcMachineName = (profile: string) => `gc-${profile}`;

const GONE = new Set(["destroying", "destroyed"]);

/** Live machines with this role (and any extra metadata), oldest first. */
export async function machinesWithRole(ops: Ops, role: Role, extra: Record<string, string> = {}): Promise<Machine[]> {
  const machines = await ops.fly().listMachines({ metadata: { role, ...extra } });
  return machines
    .filter((machine) => !GONE.has(machine.state ?? ""))
    .sort((a, b) => (a.created_at ?? "").localeCompare(b.created_at ?? ""));
}

/**
 * Destroys a machine and waits until it is gone, so its name can be reused and its volumes detached. With
 * `withVolumes`, the volumes it mounted are deleted too.
 */
export async function destroyMachine(ops: Ops, machine: Machine, { withVolumes = false } = {}): Promise<void> {
  const fly = ops.fly();
  const id = machine.id!;
  await fly.destroyMachine(id);
  try {
    await fly.waitForState(id, "destroyed", 30);
  } catch (err) {
    // Already gone is what we wanted.
    if (!(err instanceof FlyApiError && err.status === 404)) throw err;
  }
  if (!withVolumes) return;
  for (const mount of machine.config?.mounts ?? []) {
    if (mount.volume) await fly.deleteVolume(mount.volume);
  }
}

/** The app's volumes that are not on their way out. */
export async function liveVolumes(ops: Ops) {
  return (await ops.fly().listVolumes()).filter((volume) => !GONE.has(volume.state ?? ""));
}

/** The app's live volume with this name, if any. */
async function findVolume(ops: Ops, name: string) {
  return (await liveVolumes(ops)).find((volume) => volume.name === name);
}

/** A volume for one long-lived machine: the existing one with this name, or a new one. */
export async function ensureVolume(ops: Ops, name: string, region: string, sizeGb: number) {
  const existing = await findVolume(ops, name);
  if (existing) return { volume: existing, created: false };
  const volume = await ops.fly().createVolume({ name, region, size_gb: sizeGb, encrypted: true });
  return { volume, created: true };
}

/** A file delivered at boot, root-only unless `mode` says otherwise. */
export function machineFile(guestPath: string, content: string, mode = 0o600) {
  return { guest_path: guestPath, raw_value: Buffer.from(content).toString("base64"), mode };
}

/** `N d`, `N h` or `N min` since an ISO time. */
export function age(since: string | undefined, now: Date): string {
  if (!since) return "?";
  const minutes = Math.max(0, Math.floor((now.getTime() - Date.parse(since)) / 60_000));
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.floor(hours / 24)} d`;
}

/** Private DNS name Fly gives a machine by metadata (`<value>.<key>.kv._metadata.<app>.internal`). */
export const metadataHost = (app: string, key: string, value: string) => `${value}.${key}.kv._metadata.${app}.internal`;

/** How long to wait for a new machine to start: a first image pull can take minutes. */
const START_WAITS = 5;

/** Waits (up to five minutes) for a created machine to start; a clear line saying where to look if it does not. */
export async function waitStarted(ops: Ops, machine: Machine): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ops.fly().waitForState(machine.id!, "started", 60);
      return;
    } catch (err) {
      if (!isWaitTimeout(err)) throw err;
      if (attempt === START_WAITS) {
        throw new SettingError(
          "machine",
          `${machine.name} (${machine.id}) was created but has not started after ${START_WAITS} minutes; see \`fly logs -a ${ops.fly().app} --machine ${machine.id}\` and \`pnpm fly status\``,
        );
      }
      ops.say(`still waiting for ${machine.name} (${machine.id}) to start…`);
    }
  }
}
