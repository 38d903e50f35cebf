import { EnvSchema, FIX } from "./config.js";

type Variable = keyof typeof EnvSchema.shape;

/** What each variable is for (typed over the schema: a new variable without a line here does not compile). */
const MEANING: Record<Variable, string> = {
  GITHUB_API_URL: "GitHub REST base (GitHub Enterprise Server and the test peer work too)",
  GITHUB_INTEGRATION_JSON:
    "the repositories served, each with its issues and coder token; the agent's git identity; optional `authorizedUsers`",
  GITHUB_APP_ID: "GitHub App auth (recommended): the App's id; repositories may then omit their tokens",
  GITHUB_APP_PRIVATE_KEY_FILE: "GitHub App auth: the App's private key (PEM file, root-only); only the hub holds it",
  GITHUB_APP_PRIVATE_KEY: "GitHub App auth: the key itself, instead of a file (line breaks may be written `\\n`)",
  GITHUB_WEBHOOK_SECRET: "enables `POST /github/webhook` (signature checked)",
  POLL_INTERVAL_MS: "poll period; idle polls are free (304)",
  GITHUB_POLL_TIMEOUT_MS:
    "how long one poll request may go unanswered before the repository shows as failing (timed out) on `/healthz` and the dashboard; not retried (the next cycle is), writes keep 30 s and their retries",
  PROVIDER: "where thopters run",
  FLY_API_URL: "Fly Machines API",
  FLY_RATE_LIMIT_DEADLINE_MS: "Fly provider: how long sustained 429s are waited out before a provision fails",
  FLY_API_TOKEN: "Fly provider: API token (required with `PROVIDER=fly`)",
  APP_NAME: "Fly provider: the thopters' app (required with `PROVIDER=fly`)",
  REGION: "Fly provider: region of new thopters",
  THOPTER_IMAGE: "Fly and docker providers: the thopter image (required with `PROVIDER=fly`; docker: `thopter:latest`)",
  THOPTER_VM_SIZE: "Fly provider: machine size",
  STORE_URL: "the hub's durable state: embedded folder or Redis",
  STORE_CHECK_MS: "how often the store's generation marker is checked (a store that lost data stops the hub's writes)",
  STORE_RETENTION_DAYS:
    "days finished requests, posted replies and gone thopters' records stay in the store (older commands are ignored)",
  LOG_ARCHIVE_MAX_MB:
    "MiB of boot log and session transcripts the hub keeps per thopter (after stop too, for `STORE_RETENTION_DAYS` after the last write); past it the rest is dropped, and the page says so",
  HUB_HOST: "address of the dashboard, API and collector",
  HUB_PORT: "dashboard and API port",
  COLLECTOR_HOST:
    "where the collector listens if not on HUB_HOST; with `PROVIDER=docker` unset means the containers' network gateway",
  HUB_STATUS_PORT: "collector port (thopters' status and reports)",
  HUB_PUBLIC_URL: "base of links the hub writes into comments",
  MAX_THOPTERS: "thopters in an active state at once",
  MAX_CONCURRENT_PROVISIONS: "machines being created at once",
  IDLE_TIMEOUT_MIN: "idle (done, blocked, waiting, failed) this long → stopped",
  MAX_LIFETIME_MIN: "this old → stopped, whatever it is doing",
  MAX_COST_USD: "per thopter: the model proxy refuses model calls once its cost reaches this (unset: no budget)",
  MAX_DAILY_COST_USD:
    "per UTC day, across the swarm: new commands refused and running thopters stopped once reached (unset: no cap)",
  BUDGET_GRACE_MIN: "a thopter whose budget is spent is stopped this long after it says so",
  PROMPTS_DIR: "prompt templates `NAME.md` for `-p NAME`",
  THOPTER_ENV_FILE:
    "KEY=value lines given to every thopter's agent (model keys, endpoints); secret ones (a name with KEY, TOKEN, SECRET, PASSWORD, CREDENTIAL or AUTH, or a `# secret` line above; `# public` opts out; at least 8 characters) are scrubbed from comments and refused in pushes",
  LOCAL_THOPTER_ROOT: "local provider: one folder per machine",
  LOCAL_THOPTER_UID_RANGE:
    "local provider, hub as root: each thopter gets its own user and group from this uid range; nftables keeps these uids off `HUB_PORT`",
  LOCAL_THOPTER_USER: "no longer used (one user per thopter): set, it stops the hub",
  CLAUDE_BIN: "local provider: the Claude Code executable",
  THOPTER_ENTRYPOINT: "the thopter's boot command (tests use stand-ins)",
  DASHBOARD_TOKEN:
    "needed by every page and API but `/healthz` (Bearer or login cookie); unset: generated at first start, kept 0600 in `STATE/.dashboard-token`, login URL printed",
  ALLOWED_DOMAINS: "extra egress destinations for every thopter's firewall",
  DANGEROUSLY_SKIP_FIREWALL: "thopters run without the egress firewall (shown on the dashboard)",
  PROFILES_FILE: "stored-credential golden-claude profiles (root-only; `pnpm fly` writes it)",
  PROFILE_HOMES_DIR: "local setups: subfolder NAME is golden-claude profile NAME's home",
  GOLDEN_CLAUDES: "golden-claude names `-g` accepts, besides those in PROFILES_FILE",
  MODEL_PRICES_FILE:
    "dollars per million tokens by model id prefix, replacing the shipped `protocol/data/model-prices.json` (same shape); read at start",
  DOCKER_HOST: "docker provider: the Docker Engine API (Docker, or Podman's `podman system service`)",
  DOCKER_NETWORK: "docker provider: the engine network each thopter container joins (its own network namespace)",
  DOCKER_HUB_ID: "docker provider: label marking this hub's containers and volumes (reconciled after a restart)",
  DOCKER_CPUS: "docker provider: CPU limit of one thopter container",
  DOCKER_MEMORY_MB: "docker provider: memory limit of one thopter container",
  DOCKER_PIDS_LIMIT: "docker provider: process limit of one thopter container",
  LOG_LEVEL: "pino log level",
};

/** Defaults `loadConfig` derives from other values rather than from the schema. */
const DERIVED: Partial<Record<Variable, string>> = {
  HUB_PUBLIC_URL: "`http://HUB_HOST:HUB_PORT`",
  LOCAL_THOPTER_UID_RANGE: "`61000-61999`",
  DASHBOARD_TOKEN: "generated",
  THOPTER_ENTRYPOINT: "`thopter/entrypoint.sh`",
  COLLECTOR_HOST: "HUB_HOST (docker: the network's gateway)",
};

function defaultOf(variable: Variable): string {
  const derived = DERIVED[variable];
  if (derived) return derived;
  const def = EnvSchema.shape[variable].def;
  if (def.type === "default") {
    const value = def.defaultValue as unknown;
    return `\`${Array.isArray(value) ? value.join(",") : String(value)}\``;
  }
  return def.type === "optional" ? "unset" : "**required**";
}

/**
 * The hub's configuration as a markdown table (variable, default, meaning, what to set it to), made from the schema and the
 * fix-it texts of config.ts, so the table in docs/architecture.md cannot drift from the code (test/docs/architecture-doc.test.ts).
 */
export function configTable(): string {
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const rows = (Object.keys(EnvSchema.shape) as Variable[]).map(
    (v) => `| \`${v}\` | ${defaultOf(v)} | ${cell(MEANING[v])} | ${cell(FIX[v].replace(/^set it to /, ""))} |`,
  );
  return ["| variable | default | meaning | set it to |", "|---|---|---|---|", ...rows].join("\n");
}
