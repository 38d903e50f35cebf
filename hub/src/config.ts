import { readFileSync } from "node:fs";
import { join } from "node:path";
import { NAME_PATTERN, type PriceTable, urlHost } from "@thopter/protocol";
import { parse as parseDotenv } from "dotenv";
import { z } from "zod";
import { BUDGET_ENV, BUDGET_FIX } from "./budget-config.js";
import { describePath, issueMessage } from "./config-issues.js";
import { httpUrl, integer, minutes } from "./config-values.js";
import { APP_FIX, AppConfigProblem, appIdSchema, type GithubAppConfig, loadGithubApp } from "./github-app-config.js";
import { type GithubIntegration, INTEGRATION_EXAMPLE, integrationJson } from "./github-integration.js";
import { DOCKER_ENV, DOCKER_FIX } from "./providers/docker/docker-config.js";
import { DEFAULT_UID_RANGE, UidRangeText } from "./providers/local/uid-range.js";
import { parseStoreUrl } from "./store/url.js";
import { loadPrices } from "./usage/prices.js";

export { GithubIntegration } from "./github-integration.js";

/** A bad or missing configuration value. The message is one line: variable, what is wrong, what to do. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

const storeUrl = z.string().superRefine((url, ctx) => {
  try {
    parseStoreUrl(url);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message.replace(/^STORE_URL: /, "") });
  }
});

const goldenClaudes = z.string().transform((s, ctx) => {
  const names = [...new Set(s.split(",").map((n) => n.trim()))].filter((n) => n !== "");
  if (names.length === 0) ctx.addIssue({ code: "custom", message: "must name at least one profile" });
  for (const name of names.filter((n) => !NAME_PATTERN.test(n))) {
    ctx.addIssue({ code: "custom", message: `${JSON.stringify(name)} is not a valid name (${NAME_PATTERN.source})` });
  }
  return names;
});

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Every hub variable (docs/architecture.md, "Configuration", is generated from this and `FIX`). */
export const EnvSchema = z.object({
  GITHUB_API_URL: httpUrl.default("https://api.github.com"),
  GITHUB_INTEGRATION_JSON: integrationJson,
  GITHUB_WEBHOOK_SECRET: z.string().optional(),
  GITHUB_APP_ID: appIdSchema.optional(),
  GITHUB_APP_PRIVATE_KEY_FILE: z.string().optional(),
  GITHUB_APP_PRIVATE_KEY: z.string().optional(),
  POLL_INTERVAL_MS: integer(10, 3_600_000, 5000),
  GITHUB_POLL_TIMEOUT_MS: integer(100, 600_000, 10_000),
  PROVIDER: z.enum(["local", "fly", "docker"], { error: 'must be "local", "fly" or "docker"' }).default("local"),
  FLY_API_URL: httpUrl.default("https://api.machines.dev"),
  FLY_API_TOKEN: z.string().optional(),
  APP_NAME: z.string().optional(),
  REGION: z.string().optional(),
  THOPTER_IMAGE: z.string().optional(),
  THOPTER_VM_SIZE: z.string().optional(),
  /** How long one Fly call waits out sustained rate limits (429) before the provision fails with a comment. */
  FLY_RATE_LIMIT_DEADLINE_MS: integer(1000, 3_600_000, 300_000),
  STORE_URL: storeUrl.default("file:.thopter/state"),
  /** How often the store's generation marker is checked, to notice a store that lost data (see WatchedStore). */
  STORE_CHECK_MS: integer(100, 3_600_000, 5000),
  /** At least 2 days: a restarted hub re-announces the last 24 h of notices unless their reply records are still there. */
  STORE_RETENTION_DAYS: integer(2, 36_500, 30),
  /** What one thopter's archived boot log and transcripts may hold together (`STATE/.logs`); past it the rest is dropped. */
  LOG_ARCHIVE_MAX_MB: integer(1, 100_000, 32),
  HUB_HOST: z.string().default("127.0.0.1"),
  HUB_PORT: integer(0, 65_535, 8080),
  HUB_STATUS_PORT: integer(0, 65_535, 8081),
  /** Where the collector listens, if not on HUB_HOST (docker: unset means the containers' network gateway). */
  COLLECTOR_HOST: z.string().optional(),
  HUB_PUBLIC_URL: httpUrl.optional(),
  MAX_THOPTERS: integer(1, 10_000, 10),
  MAX_CONCURRENT_PROVISIONS: integer(1, 1_000, 4),
  IDLE_TIMEOUT_MIN: minutes(60),
  MAX_LIFETIME_MIN: minutes(720),
  ...BUDGET_ENV,
  PROMPTS_DIR: z.string().default("prompts"),
  THOPTER_ENV_FILE: z.string().default(".env.thopters"),
  LOCAL_THOPTER_ROOT: z.string().default(".thopter/machines"),
  /** One uid (and group) per local thopter when the hub runs as root; also the dashboard port's nftables owner match. */
  LOCAL_THOPTER_UID_RANGE: UidRangeText.default(UidRangeText.parse(DEFAULT_UID_RANGE)),
  /** Replaced by one user per thopter: set, it stops the hub with a line saying so. */
  LOCAL_THOPTER_USER: z.undefined({ error: "is no longer used: each local thopter gets its own user" }).optional(),
  CLAUDE_BIN: z.string().default("claude"),
  /** The thopter boot command, words separated by spaces; unset: the repository's thopter/entrypoint.sh. */
  THOPTER_ENTRYPOINT: z
    .string()
    .transform((s) => s.trim().split(/\s+/))
    .optional(),
  /** Needed for every page and API but /healthz; unset: generated once and kept in the state folder. */
  DASHBOARD_TOKEN: z.string().min(16, "is shorter than 16 characters").optional(),
  /** Extra egress destinations for every thopter's firewall (host names or CIDRs, comma- or space-separated). */
  ALLOWED_DOMAINS: z.string().optional(),
  /** Exactly `I_UNDERSTAND`: thopters run without the egress firewall (shown on the dashboard). */
  DANGEROUSLY_SKIP_FIREWALL: z.literal("I_UNDERSTAND", { error: "is not I_UNDERSTAND" }).optional(),
  /** Stored-credential golden-claude profiles (a JSON list of StoredProfile, root-only; the Fly CLI writes it). */
  PROFILES_FILE: z.string().default(".thopter/profiles.json"),
  /** Local setups: a folder whose subfolder NAME is golden-claude profile NAME's home, copied into its thopters. */
  PROFILE_HOMES_DIR: z.string().optional(),
  /** Golden-claude profile names accepted by `-g` (comma-separated), besides the profiles in PROFILES_FILE. */
  GOLDEN_CLAUDES: goldenClaudes.default(["default"]),
  /** Dollars per million tokens by model (JSON of PriceTable); unset: protocol/data/model-prices.json. */
  MODEL_PRICES_FILE: z.string().optional(),
  ...DOCKER_ENV,
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
});
type Variable = keyof typeof EnvSchema.shape;
const VARIABLES = Object.keys(EnvSchema.shape) as Variable[];

/** What to do about a bad value, per variable: the second half of the error line. */
export const FIX: Record<Variable, string> = {
  GITHUB_API_URL: "set it to the GitHub REST base URL, e.g. https://api.github.com",
  GITHUB_INTEGRATION_JSON: `set it to ${INTEGRATION_EXAMPLE}`,
  GITHUB_WEBHOOK_SECRET: "set it to the webhook's secret or leave it unset",
  ...APP_FIX,
  POLL_INTERVAL_MS: "set it to the poll period in milliseconds (10 to 3600000; default 5000)",
  GITHUB_POLL_TIMEOUT_MS: "set it to milliseconds (100 to 600000; default 10000)",
  PROVIDER: "set it to local, fly or docker",
  FLY_API_URL: "set it to the Machines API URL, e.g. https://api.machines.dev",
  FLY_API_TOKEN: "set it to a Fly API token (fly tokens create deploy)",
  FLY_RATE_LIMIT_DEADLINE_MS: "set it to milliseconds (1000 to 3600000; default 300000, 5 minutes)",
  APP_NAME: "set it to the Fly app that runs the thopters",
  REGION: "set it to a Fly region such as iad, or leave it unset",
  THOPTER_IMAGE: "set it to the thopter image reference (registry.fly.io/APP:TAG)",
  THOPTER_VM_SIZE: "set it to a Fly VM size such as shared-cpu-2x, or leave it unset",
  STORE_URL: "set it to file:PATH or redis://HOST:PORT",
  STORE_CHECK_MS: "set it to the store check period in milliseconds (100 to 3600000; default 5000)",
  STORE_RETENTION_DAYS: "set it to a whole number of days (2 to 36500; default 30)",
  LOG_ARCHIVE_MAX_MB: "set it to a whole number of megabytes (1 to 100000; default 32)",
  HUB_HOST: "set it to the address to listen on, e.g. 127.0.0.1",
  HUB_PORT: "set it to a TCP port (0 to 65535; default 8080)",
  HUB_STATUS_PORT: "set it to a TCP port other than HUB_PORT (0 to 65535; default 8081)",
  COLLECTOR_HOST: "set it to an address thopters reach this host at (e.g. 10.88.0.1), or leave it unset",
  HUB_PUBLIC_URL: "set it to the URL people use to reach the hub, e.g. https://hub.example.com",
  MAX_THOPTERS: "set it to a whole number from 1 to 10000 (default 10)",
  MAX_CONCURRENT_PROVISIONS: "set it to a whole number from 1 to 1000 (default 4)",
  IDLE_TIMEOUT_MIN: "set it to a number of minutes greater than 0 (default 60)",
  MAX_LIFETIME_MIN: "set it to a number of minutes greater than 0 (default 720)",
  ...BUDGET_FIX,
  PROMPTS_DIR: "set it to the folder of prompt templates (default prompts)",
  THOPTER_ENV_FILE: "set it to a file of KEY=value lines (default .env.thopters)",
  LOCAL_THOPTER_ROOT: "set it to a folder for local thopters (default .thopter/machines)",
  LOCAL_THOPTER_UID_RANGE: `set it to FIRST-LAST, uids free on this host for local thopters (default ${DEFAULT_UID_RANGE})`,
  LOCAL_THOPTER_USER: "unset it (LOCAL_THOPTER_UID_RANGE sets which uids local thopters get)",
  CLAUDE_BIN: "set it to the claude executable (default claude on PATH)",
  THOPTER_ENTRYPOINT: "set it to the thopter boot command, or leave it unset for thopter/entrypoint.sh",
  DASHBOARD_TOKEN:
    "set it to a random string of at least 16 characters (openssl rand -hex 32), or leave it unset to have one generated",
  ALLOWED_DOMAINS: "set it to host names or CIDRs separated by commas, e.g. pypi.org,files.pythonhosted.org",
  DANGEROUSLY_SKIP_FIREWALL: "set it to I_UNDERSTAND to run thopters without a firewall, or leave it unset",
  PROFILES_FILE: "set it to the profiles file (default .thopter/profiles.json)",
  PROFILE_HOMES_DIR: "set it to a folder of profile homes (one subfolder per profile name), or leave it unset",
  GOLDEN_CLAUDES: "set it to comma-separated profile names such as default,team",
  MODEL_PRICES_FILE: "set it to a JSON file shaped like protocol/data/model-prices.json, or leave it unset",
  ...DOCKER_FIX,
  LOG_LEVEL: "set it to info, or debug for more detail",
};

/** The validated hub configuration: one field per variable, parsed (numbers, JSON, lists) and defaulted. */
export type HubConfig = Omit<z.infer<typeof EnvSchema>, "GITHUB_INTEGRATION_JSON"> & {
  HUB_PUBLIC_URL: string;
  githubApp?: GithubAppConfig;
  /** GITHUB_INTEGRATION_JSON, parsed. */
  integration: GithubIntegration;
  /** MODEL_PRICES_FILE, read and parsed (or the shipped table). */
  prices: PriceTable;
};

function issueError(issue: z.core.$ZodIssue): ConfigError {
  const [variable, ...inner] = issue.path as [Variable, ...PropertyKey[]];
  const where = inner.length > 0 ? `${describePath(inner)} ` : "";
  const line = `${variable}: ${where}${issue.message}; ${FIX[variable]}`;
  return new ConfigError(variable, line.replace(/\s*[\r\n]+\s*/g, " "));
}

/** The App from its variables; a repository without tokens needs it. */
function checkGithubApp(config: z.infer<typeof EnvSchema>): GithubAppConfig | undefined {
  let app: GithubAppConfig | undefined;
  try {
    app = loadGithubApp(config);
  } catch (err) {
    if (err instanceof AppConfigProblem) throw new ConfigError(err.variable, err.message);
    throw err;
  }
  const tokenless = Object.entries(config.GITHUB_INTEGRATION_JSON.repositories).find(([, t]) => !t.issuesToken);
  if (tokenless && !app) {
    throw new ConfigError(
      "GITHUB_INTEGRATION_JSON",
      `GITHUB_INTEGRATION_JSON: repositories[${JSON.stringify(tokenless[0])}] has no tokens and no GitHub App is ` +
        "configured; set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY_FILE, or give it issuesToken and coderToken",
    );
  }
  return app;
}

/** `read()`, its failure as the one line naming `variable`. */
function attempt<T>(variable: Variable, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new ConfigError(variable, `${variable}: ${(err as Error).message}; ${FIX[variable]}`);
  }
}

function checkCombinations(config: z.infer<typeof EnvSchema>): void {
  if (config.PROVIDER === "fly") {
    for (const variable of ["FLY_API_TOKEN", "APP_NAME", "THOPTER_IMAGE"] as const) {
      if (!config[variable])
        throw new ConfigError(variable, `${variable}: is missing (PROVIDER=fly); ${FIX[variable]}`);
    }
  }
  if (config.HUB_PORT !== 0 && config.HUB_PORT === config.HUB_STATUS_PORT) {
    throw new ConfigError("HUB_STATUS_PORT", `HUB_STATUS_PORT: is the same as HUB_PORT; ${FIX.HUB_STATUS_PORT}`);
  }
}

/**
 * Validates the hub's environment. Empty values count as unset (as in `.env` files). Throws a `ConfigError`
 * whose message is one line naming the variable, what is wrong and what to do.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const input: Partial<Record<Variable, string>> = {};
  for (const variable of VARIABLES) {
    const value = env[variable];
    if (value !== undefined && value.trim() !== "") input[variable] = value;
  }
  const result = EnvSchema.safeParse(input, { error: issueMessage });
  if (!result.success) throw issueError(result.error.issues[0]!);
  const config = result.data;
  checkCombinations(config);
  const githubApp = checkGithubApp(config);
  const prices = attempt("MODEL_PRICES_FILE", () => loadPrices(config.MODEL_PRICES_FILE));
  const { GITHUB_INTEGRATION_JSON: integration, ...rest } = config;
  return {
    ...rest,
    integration,
    githubApp,
    prices,
    HUB_PUBLIC_URL: config.HUB_PUBLIC_URL ?? `http://${urlHost(config.HUB_HOST)}:${config.HUB_PORT}`,
  };
}

/**
 * `loadConfig` over the environment plus `.env` in `cwd`. Real environment variables win over the file, and
 * `process.env` is left untouched.
 */
export function loadConfigWithEnvFile(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): HubConfig {
  const path = join(cwd, ".env");
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parseDotenv(readFileSync(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") throw new ConfigError(".env", `.env: cannot read ${path} (${code}); fix it or remove it`);
  }
  return loadConfig({ ...fromFile, ...env });
}

/** Every secret value in a config (tokens, webhook secret, dashboard token, store password), for scrubbing. */
export function configSecrets(config: HubConfig): string[] {
  const values = [
    config.GITHUB_WEBHOOK_SECRET,
    config.DASHBOARD_TOKEN,
    config.FLY_API_TOKEN,
    config.githubApp?.privateKey,
    config.GITHUB_APP_PRIVATE_KEY,
  ];
  for (const repo of Object.values(config.integration.repositories)) {
    values.push(repo.issuesToken, repo.coderToken);
  }
  const store = parseStoreUrl(config.STORE_URL);
  if (store.kind === "redis") values.push(store.password);
  return [...new Set(values.filter((v): v is string => v !== undefined && v !== ""))];
}
