import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { NAME_PATTERN, RepoFullName } from "@thopter/protocol";
import { parse as parseDotenv } from "dotenv";
import { z } from "zod";

/** A missing or bad setting: one line naming the variable, what is wrong and what to do. */
export class SettingError extends Error {
  override readonly name = "SettingError";
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

/** Both PATs, or neither when the GitHub App covers the repository. */
const RepoTokens = z
  .object({ issuesToken: z.string().min(1).optional(), coderToken: z.string().min(1).optional() })
  .superRefine((t, ctx) => {
    if ((t.issuesToken === undefined) === (t.coderToken === undefined)) return;
    ctx.addIssue({ code: "custom", path: [t.issuesToken ? "coderToken" : "issuesToken"], message: "is missing" });
  });
/** The part of `GITHUB_INTEGRATION_JSON` the CLI checks (the hub validates the whole value at its start). */
const Integration = z.object({ repositories: z.record(RepoFullName, RepoTokens) });
export type RepoTokens = z.infer<typeof RepoTokens>;

const integrationJson = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.addIssue({ code: "custom", message: "is not valid JSON" });
    return z.NEVER;
  }
});

const httpUrl = z.url({ protocol: /^https?$/, error: "is not an http(s) URL" }).transform((u) => u.replace(/\/+$/, ""));
/** `registry/name:tag` or `name@sha256:…`; anything with spaces or no name is a typo. */
const imageRef = z.string().regex(/^[a-z0-9][a-z0-9._\-/:@]*$/i, "is not an image reference");

/** The CLI's own settings (environment, then `.env`), each optional until a command needs it. */
const CliEnv = z.object({
  FLY_API_URL: httpUrl.default("https://api.machines.dev"),
  FLY_API_TOKEN: z.string().optional(),
  APP_NAME: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "is not a Fly app name (lower-case letters, digits, -)")
    .optional(),
  REGION: z
    .string()
    .regex(/^[a-z]{3}$/, "is not a Fly region code such as iad")
    .optional(),
  THOPTER_IMAGE: imageRef.optional(),
  HUB_IMAGE: imageRef.optional(),
  METADATA_IMAGE: imageRef.default("docker.io/library/redis:7-alpine"),
  GITHUB_API_URL: httpUrl.default("https://api.github.com"),
  GITHUB_INTEGRATION_JSON: integrationJson.optional(),
  GITHUB_APP_ID: z
    .string()
    .regex(/^[1-9]\d*$/, "is not a GitHub App ID (a whole number)")
    .optional(),
  GITHUB_APP_PRIVATE_KEY_FILE: z.string().optional(),
  GITHUB_APP_PRIVATE_KEY: z.string().optional(),
  THOPTER_ENV_FILE: z.string().default(".env.thopters"),
  THOPTER_STATE_DIR: z.string().default(".thopter"),
});
type Variable = keyof typeof CliEnv.shape;

const FIX: Record<Variable, string> = {
  FLY_API_URL: "set it to https://api.machines.dev (the default) or leave it unset",
  FLY_API_TOKEN: "create one with `fly tokens create deploy -a APP_NAME` and set it in .env",
  APP_NAME: "set it to your Fly app (`fly apps create NAME`)",
  REGION: "set it to the Fly region for volumes and machines, e.g. iad (`fly platform regions`)",
  THOPTER_IMAGE: "set it to the thopter image, e.g. registry.fly.io/APP_NAME:thopter-TAG (`pnpm fly images`)",
  HUB_IMAGE: "set it to the hub image, e.g. registry.fly.io/APP_NAME:hub-TAG (`pnpm fly images`), or pass --image",
  METADATA_IMAGE: "leave it unset (redis:7-alpine) or set it to a Redis image",
  GITHUB_API_URL: "set it to the GitHub REST base URL, e.g. https://api.github.com",
  GITHUB_INTEGRATION_JSON:
    'set it to {"repositories":{"owner/name":{"issuesToken":"…","coderToken":"…"}},"agentUser":{"name":"…","email":"…"}}',
  GITHUB_APP_ID: "set it to the App ID on the GitHub App's settings page (docs/github-app.md)",
  GITHUB_APP_PRIVATE_KEY_FILE: "set it to the App's .pem private key file (docs/github-app.md)",
  GITHUB_APP_PRIVATE_KEY: "set GITHUB_APP_PRIVATE_KEY_FILE to the App's .pem private key file (docs/github-app.md)",
  THOPTER_ENV_FILE: "set it to the file of KEY=value lines for thopters (default .env.thopters)",
  THOPTER_STATE_DIR: "set it to a folder for the CLI's local files (default .thopter)",
};

export type CliSettings = z.infer<typeof CliEnv> & {
  /** Every variable as read (environment over `.env`), for building the hub's configuration file. */
  raw: Record<string, string>;
  /** Where relative paths are resolved. */
  cwd: string;
};

/**
 * Reads the CLI's settings from `env` over `<cwd>/.env`. Empty values count as unset. Throws a `SettingError` naming
 * the first bad variable.
 */
export function loadSettings(cwd: string, env: NodeJS.ProcessEnv): CliSettings {
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parseDotenv(readFileSync(join(cwd, ".env")));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") throw new SettingError(".env", `.env: cannot read it (${code}); fix or remove it`);
  }
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...fromFile, ...env })) {
    if (value !== undefined && value.trim() !== "") raw[key] = value;
  }
  const result = CliEnv.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const variable = issue.path[0] as Variable;
    throw new SettingError(variable, `${variable}: ${issue.message.replace(/\s+/g, " ")}; ${FIX[variable]}`);
  }
  return { ...result.data, raw, cwd };
}

/** The value of a setting a command cannot do without, or a `SettingError` saying how to set it. */
export function required<K extends Variable>(settings: CliSettings, variable: K): NonNullable<CliSettings[K]> {
  const value = settings[variable];
  if (value === undefined || value === null) {
    throw new SettingError(variable, `${variable}: is missing; ${FIX[variable]}`);
  }
  return value as NonNullable<CliSettings[K]>;
}

/** zod's own messages, phrased for someone editing `.env`. */
function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === "invalid_type" && issue.input === undefined) return "is missing";
  if (issue.code === "invalid_type")
    return `must be ${issue.expected === "object" ? "an object" : `a ${issue.expected}`}`;
  if (issue.code === "invalid_key") return issue.issues[0]?.message;
  return undefined;
}

/** The repositories and tokens of `GITHUB_INTEGRATION_JSON`, or a `SettingError` naming what is wrong. */
export function repositories(settings: CliSettings): Record<string, RepoTokens> {
  const parsed = Integration.safeParse(required(settings, "GITHUB_INTEGRATION_JSON"), { error: issueMessage });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.map(String).join(".");
    throw new SettingError(
      "GITHUB_INTEGRATION_JSON",
      `GITHUB_INTEGRATION_JSON: ${where ? `${where} ` : ""}${issue.message}; ${FIX.GITHUB_INTEGRATION_JSON}`,
    );
  }
  return parsed.data.repositories;
}

/** The GitHub App's private key: GITHUB_APP_PRIVATE_KEY_FILE's content, or GITHUB_APP_PRIVATE_KEY. */
export function readAppKey(settings: CliSettings): string {
  const file = settings.raw.GITHUB_APP_PRIVATE_KEY_FILE;
  if (!file) return required(settings, "GITHUB_APP_PRIVATE_KEY").replace(/\\n/g, "\n");
  try {
    return readFileSync(resolve(settings.cwd, file), "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SettingError(
      "GITHUB_APP_PRIVATE_KEY_FILE",
      `GITHUB_APP_PRIVATE_KEY_FILE: cannot read ${file} (${code}); ${FIX.GITHUB_APP_PRIVATE_KEY_FILE}`,
    );
  }
}

/** A golden-claude or profile name from the command line, checked like the hub checks `-g NAME`. */
export function profileName(name: string | undefined, fallback?: string): string {
  const value = name ?? fallback;
  if (!value) throw new SettingError("NAME", "a profile name is required, e.g. `default`");
  if (!NAME_PATTERN.test(value)) {
    throw new SettingError(
      "NAME",
      `${JSON.stringify(value)} is not a valid profile name: lower-case letters, digits, ., _ and -, starting with a letter or digit`,
    );
  }
  return value;
}
