import { randomBytes } from "node:crypto";
import type { Machine } from "../../types.js";
import type { Ops } from "../context.js";
import { ensureVolume, METADATA_NAME, machineFile, machinesWithRole, waitStarted } from "../fleet.js";
import { REDIS_PORT } from "../hub-config.js";
import { readIfExists, statePath, writeSecretFile } from "../local-files.js";
import { required, SettingError } from "../settings.js";

const REDIS_CONF_PATH = "/etc/thopter/redis.conf";
const VOLUME = "thopter_metadata";

/** The local copy of the Redis password, which `recreate-hub` puts into the hub's store URL. */
export function passwordPath(ops: Ops): string {
  return statePath(ops.settings, "metadata-password");
}

/** Redis configuration: password, persistence on the volume, reachable on the private network (IPv6 included). */
function redisConf(password: string): string {
  return [
    `bind 0.0.0.0 ::`,
    `port ${REDIS_PORT}`,
    "protected-mode no",
    `requirepass ${password}`,
    "dir /data",
    "appendonly yes",
    "",
  ].join("\n");
}

/** The password inside a metadata machine's Redis configuration (to restore a lost local copy). */
function passwordOf(machine: Machine): string | undefined {
  const file = machine.config?.files?.find((f) => f.guest_path === REDIS_CONF_PATH);
  if (!file?.raw_value) return undefined;
  return /^requirepass (\S+)$/m.exec(Buffer.from(file.raw_value, "base64").toString("utf8"))?.[1];
}

/** The Redis password: from the local file, or a `SettingError` saying to run ensure-metadata. */
export function metadataPassword(ops: Ops): string {
  const password = readIfExists(passwordPath(ops))?.trim();
  if (!password) {
    throw new SettingError(
      "metadata-password",
      `${passwordPath(ops)}: missing; run \`pnpm fly ensure-metadata\` first (it writes the Redis password there)`,
    );
  }
  return password;
}

/**
 * `ensure-metadata`: the Redis machine (`metadata`, role metadata) with its own volume and a generated password that
 * travels only in a root-only machine file and a local owner-only file. A second run changes nothing.
 */
export async function ensureMetadata(ops: Ops): Promise<number> {
  const region = required(ops.settings, "REGION");
  const file = passwordPath(ops);
  const [existing] = await machinesWithRole(ops, "metadata");
  if (existing) {
    ops.say(`metadata machine ${existing.id} (${existing.state}) already exists; nothing changed`);
    if (readIfExists(file) === undefined) {
      const password = passwordOf(existing);
      if (!password) {
        ops.say(
          `warning: ${file} is missing and the machine's password could not be read; recreate the metadata machine`,
        );
        return 1;
      }
      if (!ops.flags.dryRun) writeSecretFile(file, `${password}\n`);
      ops.say(`restored the Redis password from the machine into ${file} (owner-only)`);
    }
    return 0;
  }
  const password = readIfExists(file)?.trim() || randomBytes(24).toString("base64url");
  const { volume, created } = await ensureVolume(ops, VOLUME, region, 1);
  ops.say(`${created ? "created" : "reusing"} volume ${volume.name} (${volume.id})`);
  const machine = await ops.fly().createMachine({
    name: METADATA_NAME,
    region: volume.region ?? region,
    config: {
      image: ops.settings.METADATA_IMAGE,
      guest: { cpu_kind: "shared", cpus: 1, memory_mb: 256 },
      files: [machineFile(REDIS_CONF_PATH, redisConf(password))],
      init: { exec: ["redis-server", REDIS_CONF_PATH] },
      mounts: [{ volume: volume.id, path: "/data" }],
      metadata: { role: "metadata" },
      restart: { policy: "always" },
    },
  });
  await waitStarted(ops, machine);
  ops.say(`metadata machine ${machine.id} started`);
  if (ops.flags.dryRun) {
    ops.say(`would write the generated Redis password to ${file} (owner-only)`);
  } else {
    writeSecretFile(file, `${password}\n`);
    ops.say(`Redis password written to ${file} (owner-only); keep it private, recreate-hub reads it from there`);
  }
  return 0;
}
