import type { MachineFile } from "../../types.js";
import type { Ops } from "../context.js";
import { checkThopterEnv } from "../env-thopters.js";
import { destroyMachine, HUB_NAME, machineFile, machinesWithRole, metadataHost } from "../fleet.js";
import { HUB_ENV_PATH, HUB_PROFILES_PATH, HUB_THOPTER_ENV_PATH, hubEnvFile } from "../hub-config.js";
import { readIfExists, resolvePath } from "../local-files.js";
import { readProfiles } from "../profiles.js";
import { required, SettingError } from "../settings.js";
import { metadataPassword, passwordPath } from "./ensure-metadata.js";

/** `.env.thopters` as checked text (empty when the file does not exist), or a `SettingError` listing its problems. */
export function thopterEnvText(ops: Ops): string {
  const path = resolvePath(ops.settings, ops.settings.THOPTER_ENV_FILE);
  const text = readIfExists(path) ?? "";
  const problems = checkThopterEnv(text);
  if (problems.length > 0) {
    throw new SettingError("THOPTER_ENV_FILE", `${path}: ${problems.join("; ")}`);
  }
  return text;
}

/** Profile names `-g` may pick: golden-claude machines and stored credentials. */
async function goldenClaudeNames(ops: Ops): Promise<string[]> {
  const machines = await machinesWithRole(ops, "golden-claude");
  const names = machines.map((m) => m.config?.metadata?.gc).filter((n): n is string => Boolean(n));
  return [...new Set([...names, ...readProfiles(ops).map((p) => p.name)])].sort();
}

/** Creates the hub machine with these files and waits until it runs. */
async function createHub(ops: Ops, image: string, files: MachineFile[]): Promise<void> {
  const app = required(ops.settings, "APP_NAME");
  const region = required(ops.settings, "REGION");
  const machine = await ops.fly().createMachine({
    name: HUB_NAME,
    region,
    config: {
      image,
      guest: { cpu_kind: "shared", cpus: 1, memory_mb: 1024 },
      env: { NODE_ENV: "production" },
      files,
      metadata: { role: "hub" },
      restart: { policy: "always" },
    },
  });
  await ops.fly().waitForState(machine.id!, "started", 60);
  const port = ops.settings.raw.HUB_PORT ?? "8080";
  ops.say(`hub machine ${machine.id} started (image ${image})`);
  ops.say(`dashboard (on the Wireguard network): http://${metadataHost(app, "role", "hub")}:${port}`);
}

/**
 * `recreate-hub`: destroys the hub machine(s) and creates a new one. Its configuration arrives as a root-only `.env`
 * file (tokens never in the machine's env or argv), with `.env.thopters` and stored profiles beside it, and
 * `STORE_URL` pointing at the metadata Redis.
 */
export async function recreateHub(ops: Ops): Promise<number> {
  const image = ops.flags.image ?? required(ops.settings, "HUB_IMAGE");
  required(ops.settings, "THOPTER_IMAGE");
  required(ops.settings, "GITHUB_INTEGRATION_JSON");
  const thopterEnv = thopterEnvText(ops);
  const [metadata] = await machinesWithRole(ops, "metadata");
  if (!metadata && !ops.flags.dryRun) {
    throw new SettingError("metadata", "there is no metadata machine: run `pnpm fly ensure-metadata` first");
  }
  // A dry run prints file sizes only, so a stand-in password does for a metadata machine that does not exist yet.
  const redisPassword = ops.flags.dryRun
    ? (readIfExists(passwordPath(ops))?.trim() ?? "dry-run")
    : metadataPassword(ops);
  const profiles = readProfiles(ops);
  const files = [
    machineFile(HUB_ENV_PATH, hubEnvFile(ops.settings, { redisPassword, goldenClaudes: await goldenClaudeNames(ops) })),
    machineFile(HUB_THOPTER_ENV_PATH, thopterEnv),
    machineFile(HUB_PROFILES_PATH, `${JSON.stringify(profiles)}\n`),
  ];
  for (const old of await machinesWithRole(ops, "hub")) {
    await destroyMachine(ops, old);
    ops.say(`destroyed hub machine ${old.id}`);
  }
  await createHub(ops, image, files);
  return 0;
}

/**
 * `upload-env-thopters`: checks `.env.thopters` and gives it to the hub. Fly applies a changed file only by
 * replacing the machine, so the hub is recreated from its current configuration with the new file (new thopters get
 * it; running ones keep theirs).
 */
export async function uploadEnvThopters(ops: Ops): Promise<number> {
  const text = thopterEnvText(ops);
  const [hub] = await machinesWithRole(ops, "hub");
  if (!hub && !ops.flags.dryRun) {
    throw new SettingError(
      "hub",
      "there is no hub machine: run `pnpm fly recreate-hub` (it uploads .env.thopters too)",
    );
  }
  const files = (hub?.config?.files ?? []).filter((f) => f.guest_path !== HUB_THOPTER_ENV_PATH);
  files.push(machineFile(HUB_THOPTER_ENV_PATH, text));
  const image = hub?.config?.image ?? ops.flags.image ?? required(ops.settings, "HUB_IMAGE");
  if (hub) await destroyMachine(ops, hub);
  await createHub(ops, image, files);
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.trim().startsWith("#")).length;
  ops.say(`uploaded ${lines} variable${lines === 1 ? "" : "s"} for new thopters`);
  return 0;
}
