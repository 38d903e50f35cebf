import { DEFAULT_PRICES, Isolation, ModelCredential, PriceTable } from "@thopter/protocol";
import { z } from "zod";
import {
  AbsPath,
  type AgentIdentity,
  ConfigError,
  checkIsolation,
  HttpUrl,
  readSecretFile,
  resolveAgent,
} from "../config.js";

const LABEL = "model proxy config";

export const ModelProxyConfigFile = z.strictObject({
  /** The unprivileged user the agent runs as: only its connections (and this process's own) are served. */
  agentUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a Unix user name"),
  /** As the broker's: "off" only when the proxy is not root and the agent is its own user. */
  isolation: Isolation.optional(),
  credentialFile: AbsPath,
  /** Where the hub's collector listens (`POST /v1/reports` is appended). */
  collectorUrl: HttpUrl,
  reportTokenFile: AbsPath,
  /** Root-only: the outbox and the usage totals, which survive a restart. */
  stateDir: AbsPath,
  /** The per-thopter placeholder the agent's Claude sends instead of a credential. */
  placeholder: z.string().min(32, "must be at least 32 characters"),
  port: z.number().int().min(0).max(65_535).default(0),
  /** Spent cost (US dollars, priced with `prices`) at which new model requests are refused; absent: no budget. */
  maxCostUsd: z.number().positive().optional(),
  prices: PriceTable.default(DEFAULT_PRICES),
  /** Usage is reported at most this often (the latest totals replace the earlier ones at the hub). */
  reportEveryMs: z.number().int().nonnegative().default(2_000),
  outbox: z
    .strictObject({
      minDelayMs: z.number().int().positive().default(1_000),
      maxDelayMs: z.number().int().positive().default(60_000),
    })
    .prefault({}),
});
export type ModelProxyConfigFile = z.infer<typeof ModelProxyConfigFile>;
export type ModelProxyConfigInput = z.input<typeof ModelProxyConfigFile>;

export interface ModelProxyConfig extends ModelProxyConfigFile {
  credential: ModelCredential;
  reportToken: string;
  agent: AgentIdentity;
}

function parse<T>(schema: z.ZodType<T>, raw: unknown, what: string): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new ConfigError(`${LABEL}: ${what}${issue.path.length ? `.${issue.path.join(".")}` : ""}: ${issue.message}`);
}

function readJson(path: string, field: string): unknown {
  try {
    return JSON.parse(readSecretFile(path, field, LABEL));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${LABEL}: ${field}: ${path} is not valid JSON (${(err as Error).message})`);
  }
}

/** The config file and what it points at, each file root's own with mode 0600 (readSecretFile), else refused. */
export function loadModelProxyConfig(path: string): ModelProxyConfig {
  const file = parse(ModelProxyConfigFile, readJson(path, "config file"), "(file)");
  const resolved = resolveAgent(file.agentUser, LABEL);
  checkIsolation(file.isolation, resolved);
  return {
    ...file,
    credential: parse(ModelCredential, readJson(file.credentialFile, "credentialFile"), "credentialFile"),
    reportToken: readSecretFile(file.reportTokenFile, "reportTokenFile", LABEL),
    agent: resolved,
  };
}
