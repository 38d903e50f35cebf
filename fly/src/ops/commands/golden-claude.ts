import { FlyApiError } from "../../errors.js";
import { GOLDEN_CLAUDE_MOUNT, goldenClaudeVolumeNames } from "../../golden-claude-volumes.js";
import type { Machine } from "../../types.js";
import type { Ops } from "../context.js";
import { destroyMachine, ensureVolume, gcMachineName, liveVolumes, machinesWithRole, waitStarted } from "../fleet.js";
import { profileName, required, SettingError } from "../settings.js";
import { refreshHub } from "./hub.js";

/** The golden claude's home (the image's `thopter` user), on its volume: what new thopters start with. */
const GC_HOME = `${GOLDEN_CLAUDE_MOUNT}/thopter`;
/** As big as a fresh thopter volume: a thopter made from a snapshot has its size (a fork keeps the source's). */
const HOME_VOLUME_GB = 10;

/**
 * What a golden claude runs: nothing but a home for a person to log in to. Root gives the volume's home directory to
 * the `thopter` user, then the machine idles (the image's own command would boot a thopter, which needs a job).
 * `THOPTER_FS_ROOT` is empty on Fly and points at the machine's directory under the Fly peer.
 */
const GC_INIT = `set -e
home="\${THOPTER_FS_ROOT-}${GC_HOME}"
mkdir -p "$home"
chown thopter: "$home"
exec sleep infinity`;

async function goldenClaude(ops: Ops, name: string): Promise<Machine | undefined> {
  const [machine] = await machinesWithRole(ops, "golden-claude", { gc: name });
  return machine;
}

/** `recreate-gc [name]`: the machine `gc-NAME`, its home on a volume that outlives the machine (logins survive). */
export async function recreateGc(ops: Ops, nameArg: string | undefined): Promise<number> {
  const name = profileName(nameArg, "default");
  const region = required(ops.settings, "REGION");
  const image = ops.flags.image ?? required(ops.settings, "THOPTER_IMAGE");
  const old = await goldenClaude(ops, name);
  if (old) {
    const refusal = await claudeRefusal(ops, old, "stopping the machine now can tear its files", {
      unknownNeedsYes: false,
    });
    if (refusal) {
      ops.say(refusal);
      return 1;
    }
    await destroyMachine(ops, old);
    ops.say(`destroyed ${gcMachineName(name)} (${old.id}); its home volume is kept`);
  }
  const { volume, created } = await ensureVolume(ops, goldenClaudeVolumeNames(name).home, region, HOME_VOLUME_GB);
  ops.say(`${created ? "created" : "reusing"} home volume ${volume.name} (${volume.id})`);
  const machine = await ops.fly().createMachine({
    name: gcMachineName(name),
    region: volume.region ?? region,
    config: {
      image,
      guest: { cpu_kind: "shared", cpus: 2, memory_mb: 2048 },
      env: { THOPTER_ROLE: "golden-claude", GOLDEN_CLAUDE_NAME: name },
      mounts: [{ volume: volume.id, path: GOLDEN_CLAUDE_MOUNT }],
      init: { entrypoint: ["/bin/sh", "-c", GC_INIT] },
      metadata: { role: "golden-claude", gc: name },
      restart: { policy: "always" },
    },
  });
  await waitStarted(ops, machine);
  const app = required(ops.settings, "APP_NAME");
  ops.say(`${gcMachineName(name)} started (${machine.id}); log in to Claude there, then quit it:`);
  ops.say(`  fly ssh console -a ${app} --machine ${machine.id} -u thopter   # then: claude, /login, /exit`);
  ops.say(`then run \`pnpm fly snapshot-gc ${name}\` and use it with \`/thopter -g ${name}\``);
  return 0;
}

/** The golden claude's volumes as they are now: its home and every snapshot (normally one). */
async function volumesOf(ops: Ops, name: string) {
  const names = goldenClaudeVolumeNames(name);
  const volumes = await liveVolumes(ops);
  return {
    home: volumes.find((v) => v.name === names.home),
    snapshots: volumes.filter((v) => names.isSnapshot(v.name)),
  };
}

/** `destroy-gc [name]`: the machine, its home volume and its snapshots (the login is lost). */
export async function destroyGc(ops: Ops, nameArg: string | undefined): Promise<number> {
  const name = profileName(nameArg, "default");
  const machine = await goldenClaude(ops, name);
  const { home, snapshots } = await volumesOf(ops, name);
  if (!machine && !home && snapshots.length === 0) {
    ops.say(`there is no golden claude ${name}; nothing to destroy`);
    return 0;
  }
  if (machine) {
    await destroyMachine(ops, machine);
    ops.say(`destroyed ${gcMachineName(name)} (${machine.id})`);
  }
  // The snapshots hold the same login; nothing uses them once the golden claude is gone.
  for (const snapshot of snapshots) {
    await ops.fly().deleteVolume(snapshot.id!);
    ops.say(`deleted its snapshot volume ${snapshot.id}`);
  }
  if (home) {
    await ops.fly().deleteVolume(home.id!);
    ops.say(`deleted home volume ${home.name} (${home.id})`);
  }
  if (await refreshHub(ops, { onlyIfNamesChange: true })) ops.say(`the hub no longer offers ${name}`);
  return 0;
}

export type ClaudeState = "running" | "not running" | "unknown";

/**
 * Whether Claude Code runs on a golden claude: asked with `pgrep` through the machine's exec endpoint; where exec
 * is unavailable, the `claude` metadata the golden claude reports (`running` / `stopped`). A stopped machine runs
 * nothing.
 */
export async function claudeOn(ops: Ops, machine: Machine): Promise<{ state: ClaudeState; how: string }> {
  if (machine.state !== "started") return { state: "not running", how: `the machine is ${machine.state}` };
  try {
    const result = await ops.exec().run(machine.id!, ["pgrep", "-f", "(^|/)claude( |$)|claude-code/cli\\.js"]);
    return { state: result.exitCode === 0 ? "running" : "not running", how: "pgrep on the machine" };
  } catch (err) {
    if (!(err instanceof FlyApiError) || (err.status !== undefined && err.status < 404)) throw err;
    const reported = (await ops.fly().getMetadata(machine.id!)).claude;
    if (reported === "running") return { state: "running", how: "the machine's claude metadata" };
    if (reported === "stopped") return { state: "not running", how: "the machine's claude metadata" };
    return { state: "unknown", how: `exec failed (${err.message}) and the machine reports no claude metadata` };
  }
}

/**
 * Why this golden claude must not be touched now (Claude Code runs there), or undefined. When nobody can tell,
 * `unknownNeedsYes` makes it a refusal unless `--yes` confirms; otherwise it is only a warning.
 */
async function claudeRefusal(
  ops: Ops,
  machine: Machine,
  risk: string,
  { unknownNeedsYes }: { unknownNeedsYes: boolean },
): Promise<string | undefined> {
  const claude = await claudeOn(ops, machine);
  const where = machine.name ?? machine.id;
  if (claude.state === "running") {
    return `refused: Claude Code is running on ${where} (${claude.how}). It writes to its home in the background, so ${risk}. Quit Claude there (/exit) and run this again.`;
  }
  if (claude.state === "unknown") {
    if (unknownNeedsYes && !ops.flags.yes) {
      return `refused: cannot tell whether Claude Code runs on ${where} (${claude.how}). Make sure it is not running, then rerun with --yes.`;
    }
    ops.say(`warning: cannot tell whether Claude Code runs on ${where} (${claude.how})`);
  }
  return undefined;
}

/**
 * `snapshot-gc [name]`: copies the golden claude's home volume, in one piece (a volume fork), for new thopters. Its
 * files must not change during the copy, so it refuses while Claude Code runs there (Claude writes to its home in
 * the background). The fork is recorded in the machine's metadata (`snapshot_volume`); older ones are deleted.
 */
export async function snapshotGc(ops: Ops, nameArg: string | undefined): Promise<number> {
  const name = profileName(nameArg, "default");
  const region = required(ops.settings, "REGION");
  const machine = await goldenClaude(ops, name);
  if (!machine) {
    throw new SettingError("gc", `there is no golden claude ${name}: create it with \`pnpm fly recreate-gc ${name}\``);
  }
  const refusal = await claudeRefusal(ops, machine, "a copy taken now can be torn", { unknownNeedsYes: true });
  if (refusal) {
    ops.say(refusal);
    return 1;
  }
  const home = machine.config?.mounts?.find((m) => m.path === GOLDEN_CLAUDE_MOUNT)?.volume;
  if (!home)
    throw new SettingError("gc", `${gcMachineName(name)} has no home volume; run \`pnpm fly recreate-gc ${name}\``);
  const at = ops.now();
  const snapshot = await ops.fly().createVolume({
    // The hub forks the newest of the golden claude's snapshots (see goldenClaudeVolumeNames).
    name: goldenClaudeVolumeNames(name).snapshot(at),
    region,
    // No size: a fork has its source's.
    source_volume_id: home,
  });
  await ops.fly().setMetadata(machine.id!, "snapshot_volume", snapshot.id!);
  await ops.fly().setMetadata(machine.id!, "snapshot_at", at.toISOString());
  // Older snapshots (the previous one, and any a failed run left) would only cost money: thopters fork the newest.
  for (const old of (await volumesOf(ops, name)).snapshots.filter((v) => v.id !== snapshot.id)) {
    await ops.fly().deleteVolume(old.id!);
  }
  ops.say(
    `snapshot of ${gcMachineName(name)}'s home: volume ${snapshot.id}; new thopters with -g ${name} start from it`,
  );
  return 0;
}
