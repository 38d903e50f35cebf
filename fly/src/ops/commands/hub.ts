import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NAME_PATTERN, type StoredProfile } from "@thopter/protocol";
import type { Machine, MachineFile } from "../../types.js";
import type { Ops } from "../context.js";
import { checkThopterEnv } from "../env-thopters.js";
import { destroyMachine, HUB_NAME, machineFile, machinesWithRole, metadataHost, waitStarted } from "../fleet.js";
import {
  goldenClaudesOf,
  HUB_ENV_PATH,
  HUB_PROFILES_PATH,
  HUB_PROMPTS_DIR,
  HUB_THOPTER_ENV_PATH,
  hubEnvFile,
  withGoldenClaudes,
} from "../hub-config.js";
import { readIfExists, resolvePath } from "../local-files.js";
import { mergeProfiles, parseProfiles, readProfiles } from "../profiles.js";
import { required, SettingError } from "../settings.js";
import { metadataPassword, passwordPath } from "./ensure-metadata.js";

/** `.env.thopters` as checked text (undefined when absent), or a `SettingError` listing its problems. */
function localThopterEnv(ops: Ops): string | undefined {
  const path = resolvePath(ops.settings, ops.settings.THOPTER_ENV_FILE);
  const text = readIfExists(path);
  const problems = checkThopterEnv(text ?? "");
  if (problems.length > 0) throw new SettingError("THOPTER_ENV_FILE", `${path}: ${problems.join("; ")}`);
  return text;
}

export async function currentHub(ops: Ops): Promise<Machine | undefined> {
  return (await machinesWithRole(ops, "hub"))[0];
}

function fileOf(machine: Machine | undefined, path: string): string | undefined {
  const file = machine?.config?.files?.find((f) => f.guest_path === path);
  return file?.raw_value === undefined ? undefined : Buffer.from(file.raw_value, "base64").toString("utf8");
}

/** The hub machine's `.env`, or a `SettingError` when Fly did not return it (nothing to keep, then). */
function hubEnvOf(hub: Machine): string {
  const text = fileOf(hub, HUB_ENV_PATH);
  if (text === undefined) {
    throw new SettingError(
      "hub",
      `cannot read the hub's configuration (${HUB_ENV_PATH}) from Fly; run \`pnpm fly recreate-hub\` with GITHUB_INTEGRATION_JSON set`,
    );
  }
  return text;
}

/** The credential profiles the hub machine holds now. */
export function hubProfiles(hub: Machine): StoredProfile[] {
  const text = fileOf(hub, HUB_PROFILES_PATH);
  return text === undefined ? [] : parseProfiles(text, `the hub's ${HUB_PROFILES_PATH}`);
}

/** Names `-g` may pick: golden-claude machines and the given profiles. */
async function goldenClaudeNames(ops: Ops, profiles: StoredProfile[]): Promise<string[]> {
  const machines = await machinesWithRole(ops, "golden-claude");
  const names = machines.map((m) => m.config?.metadata?.gc).filter((n): n is string => Boolean(n));
  return [...new Set([...names, ...profiles.map((p) => p.name)])].sort();
}

/** Replaces the hub machine with one running `image` with these files (Fly applies files only to new machines). */
async function replaceHub(ops: Ops, old: Machine | undefined, image: string, files: MachineFile[]): Promise<void> {
  const app = required(ops.settings, "APP_NAME");
  const region = old?.region ?? required(ops.settings, "REGION");
  if (old) {
    await destroyMachine(ops, old);
    ops.say(`destroyed hub machine ${old.id}`);
  }
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
  await waitStarted(ops, machine);
  ops.say(`hub machine ${machine.id} started (image ${image})`);
  const port = ops.settings.raw.HUB_PORT ?? "8080";
  ops.say(`dashboard (on the Wireguard network): http://${metadataHost(app, "role", "hub")}:${port}`);
}

/** Prompt templates (`NAME.md` in `PROMPTS_DIR`, default `prompts`) as files for the hub, readable by all. */
function promptFiles(ops: Ops): MachineFile[] {
  const dir = resolvePath(ops.settings, ops.settings.raw.PROMPTS_DIR ?? "prompts");
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return names
    .filter((file) => file.endsWith(".md") && NAME_PATTERN.test(file.slice(0, -3)))
    .sort()
    .map((file) => machineFile(`${HUB_PROMPTS_DIR}/${file}`, readFileSync(join(dir, file), "utf8"), 0o644));
}

/** The prompt files a hub machine has now (kept when another of its files changes). */
const promptsOf = (hub: Machine): MachineFile[] =>
  (hub.config?.files ?? []).filter((f) => f.guest_path?.startsWith(`${HUB_PROMPTS_DIR}/`));

function hubFiles(env: string, thopterEnv: string, profiles: StoredProfile[], prompts: MachineFile[]): MachineFile[] {
  return [
    machineFile(HUB_ENV_PATH, env),
    machineFile(HUB_THOPTER_ENV_PATH, thopterEnv),
    machineFile(HUB_PROFILES_PATH, `${JSON.stringify(profiles)}\n`),
    ...prompts,
  ];
}

/**
 * `recreate-hub`: a new hub machine. Its configuration arrives as a root-only `.env` file (tokens never in the
 * machine's env or argv), with `.env.thopters`, the credential profiles and the prompt templates beside it,
 * `STORE_URL` pointing at the metadata Redis. Without `GITHUB_INTEGRATION_JSON` here, the running hub's configuration is kept, so a team member
 * with only a Fly token can roll out a new image or profile.
 */
export async function recreateHub(ops: Ops): Promise<number> {
  const old = await currentHub(ops);
  const image = ops.flags.image ?? ops.settings.HUB_IMAGE ?? old?.config?.image ?? required(ops.settings, "HUB_IMAGE");
  const profiles = mergeProfiles(old ? hubProfiles(old) : [], readProfiles(ops));
  const names = await goldenClaudeNames(ops, profiles);
  let env: string;
  if (ops.settings.GITHUB_INTEGRATION_JSON !== undefined || !old) {
    required(ops.settings, "GITHUB_INTEGRATION_JSON");
    required(ops.settings, "THOPTER_IMAGE");
    const [metadata] = await machinesWithRole(ops, "metadata");
    if (!metadata && !ops.flags.dryRun) {
      throw new SettingError("metadata", "there is no metadata machine: run `pnpm fly ensure-metadata` first");
    }
    // A dry run prints file sizes only, so a stand-in does for a password that does not exist yet.
    const redisPassword = ops.flags.dryRun
      ? (readIfExists(passwordPath(ops))?.trim() ?? "dry-run")
      : metadataPassword(ops);
    env = hubEnvFile(ops.settings, { redisPassword, goldenClaudes: names });
  } else {
    env = withGoldenClaudes(hubEnvOf(old), names);
    ops.say("GITHUB_INTEGRATION_JSON is not set here: keeping the running hub's configuration");
  }
  const thopterEnv = localThopterEnv(ops) ?? fileOf(old, HUB_THOPTER_ENV_PATH) ?? "";
  const prompts = promptFiles(ops);
  if (prompts.length === 0) {
    throw new SettingError(
      "PROMPTS_DIR",
      "PROMPTS_DIR: no NAME.md prompt templates found; run from the repository root",
    );
  }
  ops.say(`prompts: ${prompts.map((f) => f.guest_path!.slice(HUB_PROMPTS_DIR.length + 1, -3)).join(", ")}`);
  await replaceHub(ops, old, image, hubFiles(env, thopterEnv, profiles, prompts));
  return 0;
}

/**
 * Gives the running hub a new `.env.thopters`, profile list or golden-claude list, keeping the rest of its
 * configuration: the hub is recreated from its own files. With `onlyIfNamesChange`, nothing happens unless the
 * golden-claude names differ. Resolves false when there is no hub.
 */
export async function refreshHub(
  ops: Ops,
  change: { thopterEnv?: string; removeProfile?: string; onlyIfNamesChange?: boolean },
): Promise<boolean> {
  const hub = await currentHub(ops);
  if (!hub) return false;
  const profiles = mergeProfiles(hubProfiles(hub), readProfiles(ops)).filter((p) => p.name !== change.removeProfile);
  const names = await goldenClaudeNames(ops, profiles);
  const oldEnv = hubEnvOf(hub);
  if (change.onlyIfNamesChange && goldenClaudesOf(oldEnv).join(",") === names.join(",")) return false;
  const thopterEnv = change.thopterEnv ?? fileOf(hub, HUB_THOPTER_ENV_PATH) ?? "";
  await replaceHub(
    ops,
    hub,
    hub.config?.image ?? required(ops.settings, "HUB_IMAGE"),
    hubFiles(withGoldenClaudes(oldEnv, names), thopterEnv, profiles, promptsOf(hub)),
  );
  return true;
}

/** `upload-env-thopters`: checks `.env.thopters` and gives it to the hub (new thopters get it; running ones keep theirs). */
export async function uploadEnvThopters(ops: Ops): Promise<number> {
  const text = localThopterEnv(ops);
  if (text === undefined) {
    throw new SettingError(
      "THOPTER_ENV_FILE",
      `${resolvePath(ops.settings, ops.settings.THOPTER_ENV_FILE)}: not found; create it with KEY=value lines`,
    );
  }
  if (!(await refreshHub(ops, { thopterEnv: text }))) {
    throw new SettingError(
      "hub",
      "there is no hub machine: run `pnpm fly recreate-hub` (it uploads .env.thopters too)",
    );
  }
  const count = text.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.trim().startsWith("#")).length;
  ops.say(`uploaded ${count} variable${count === 1 ? "" : "s"} for new thopters`);
  return 0;
}
