import { parse as parseDotenv } from "dotenv";
import { metadataHost } from "./fleet.js";
import { type CliSettings, readAppKey, SettingError } from "./settings.js";

/** Every variable the hub reads (hub/src/config.ts); the CLI passes these through from `.env` to the hub machine. */
export const HUB_VARIABLES = [
  "GITHUB_API_URL",
  "GITHUB_INTEGRATION_JSON",
  "GITHUB_WEBHOOK_SECRET",
  "GITHUB_APP_ID",
  "GITHUB_APP_PRIVATE_KEY",
  "POLL_INTERVAL_MS",
  "GITHUB_POLL_TIMEOUT_MS",
  "PROVIDER",
  "FLY_API_URL",
  "FLY_API_TOKEN",
  "APP_NAME",
  "REGION",
  "THOPTER_IMAGE",
  "THOPTER_VM_SIZE",
  "STORE_URL",
  "HUB_HOST",
  "HUB_PORT",
  "HUB_STATUS_PORT",
  "HUB_PUBLIC_URL",
  "MAX_THOPTERS",
  "MAX_CONCURRENT_PROVISIONS",
  "IDLE_TIMEOUT_MIN",
  "MAX_LIFETIME_MIN",
  "PROMPTS_DIR",
  "THOPTER_ENV_FILE",
  "DASHBOARD_TOKEN",
  "GOLDEN_CLAUDES",
  "LOG_LEVEL",
  "ALLOWED_DOMAINS",
  "DANGEROUSLY_SKIP_FIREWALL",
] as const;

/** Where the hub's files go on its machine: the hub reads `.env` from its working directory. */
export const HUB_DIR = "/app";
export const HUB_ENV_PATH = `${HUB_DIR}/.env`;
export const HUB_THOPTER_ENV_PATH = `${HUB_DIR}/.env.thopters`;
export const HUB_PROFILES_PATH = `${HUB_DIR}/.thopter/profiles.json`;
export const HUB_PROMPTS_DIR = `${HUB_DIR}/prompts`;
export const REDIS_PORT = 6379;

/** A dotenv line whose value comes back byte for byte (single quotes are literal in dotenv). */
function dotenvLine(key: string, value: string): string {
  if (/[\r\n']/.test(value)) {
    throw new SettingError(
      key,
      `${key}: contains a line break or a single quote, which the hub's .env cannot carry; remove it`,
    );
  }
  return `${key}='${value}'`;
}

/**
 * The hub's `.env` on Fly: the user's hub settings, with what only makes sense on Fly fixed here: the Fly provider,
 * the Machines API's private address, the metadata Redis as store, and listening on the private network.
 */
export function hubEnvFile(settings: CliSettings, opts: { redisPassword: string; goldenClaudes: string[] }): string {
  const app = settings.APP_NAME!;
  const values: Record<string, string> = {};
  for (const key of HUB_VARIABLES) {
    const value = settings.raw[key];
    if (value !== undefined) values[key] = value;
  }
  Object.assign(values, {
    PROVIDER: "fly",
    FLY_API_URL: "http://_api.internal:4280",
    STORE_URL: `redis://:${encodeURIComponent(opts.redisPassword)}@${metadataHost(app, "role", "metadata")}:${REDIS_PORT}`,
    HUB_HOST: "::",
    THOPTER_ENV_FILE: HUB_THOPTER_ENV_PATH,
    PROMPTS_DIR: HUB_PROMPTS_DIR,
    HUB_PUBLIC_URL:
      values.HUB_PUBLIC_URL ?? `http://${metadataHost(app, "role", "hub")}:${settings.raw.HUB_PORT ?? "8080"}`,
    PROFILES_FILE: HUB_PROFILES_PATH,
  });
  if (opts.goldenClaudes.length > 0) values.GOLDEN_CLAUDES = opts.goldenClaudes.join(",");
  // The key file stays on this machine: the hub gets the key itself, on one line.
  const keyFile = settings.raw.GITHUB_APP_PRIVATE_KEY_FILE;
  if (keyFile) values.GITHUB_APP_PRIVATE_KEY = readAppKey(settings).replace(/\r?\n/g, "\\n");
  return serialize(values);
}

function serialize(values: Record<string, string>): string {
  return `${Object.entries(values)
    .map(([key, value]) => dotenvLine(key, value))
    .join("\n")}\n`;
}

/** The golden-claude names a hub `.env` offers. */
export function goldenClaudesOf(envText: string): string[] {
  return (parseDotenv(envText).GOLDEN_CLAUDES ?? "").split(",").filter((n) => n !== "");
}

/** A hub `.env` (as the hub machine has it) with another list of golden-claude names; everything else kept. */
export function withGoldenClaudes(envText: string, names: string[]): string {
  const values = parseDotenv(envText);
  if (names.length > 0) values.GOLDEN_CLAUDES = names.join(",");
  else delete values.GOLDEN_CLAUDES;
  return serialize(values);
}
