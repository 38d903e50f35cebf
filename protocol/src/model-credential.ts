import { z } from "zod";
import { PriceTable } from "./usage.js";

/**
 * The variables of `.env.thopters` (and a golden-claude profile) that are the model credential and its endpoint: the
 * hub takes them out of the agent's env file and hands them to the thopter's root-owned model proxy instead.
 */
export const MODEL_CREDENTIAL_ENV = [
  "ANTHROPIC_AUTH_TOKEN",
  "ANTHROPIC_API_KEY",
  "CLAUDE_CODE_OAUTH_TOKEN",
  "ANTHROPIC_BASE_URL",
] as const;

/**
 * The real model credential, in a root-only file only the model proxy reads: an API key (sent as `x-api-key`), a
 * Claude account's long-lived OAuth token (`Authorization: Bearer` with the OAuth beta flag), or a gateway's bearer
 * token (ANTHROPIC_AUTH_TOKEN: `Authorization: Bearer` as it is); and the endpoint a team set, if any.
 */
export const ModelCredential = z.strictObject({
  kind: z.enum(["apiKey", "oauthToken", "authToken"]),
  value: z.string().min(1),
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
});
export type ModelCredential = z.infer<typeof ModelCredential>;

/** The job file's `model` part: what the proxy needs that is not secret. */
export const ModelJob = z.strictObject({
  /** Spent cost in US dollars at which the proxy refuses new model requests; absent: no budget. */
  maxCostUsd: z.number().positive().optional(),
  prices: PriceTable.optional(),
});
export type ModelJob = z.infer<typeof ModelJob>;

/**
 * Splits env-file variables into what the agent keeps and the model credential (by the precedence Claude Code gives
 * them: ANTHROPIC_AUTH_TOKEN, then ANTHROPIC_API_KEY, then CLAUDE_CODE_OAUTH_TOKEN). None of the credential variables
 * stays with the agent, whichever is used.
 */
export function splitModelCredential(env: Record<string, string>): {
  agentEnv: Record<string, string>;
  credential?: ModelCredential;
} {
  const agentEnv = Object.fromEntries(
    Object.entries(env).filter(([name]) => !(MODEL_CREDENTIAL_ENV as readonly string[]).includes(name)),
  );
  const baseUrl = env.ANTHROPIC_BASE_URL?.trim() || undefined;
  const pick = (): Omit<ModelCredential, "baseUrl"> | undefined => {
    if (env.ANTHROPIC_AUTH_TOKEN?.trim()) return { kind: "authToken", value: env.ANTHROPIC_AUTH_TOKEN.trim() };
    if (env.ANTHROPIC_API_KEY?.trim()) return { kind: "apiKey", value: env.ANTHROPIC_API_KEY.trim() };
    if (env.CLAUDE_CODE_OAUTH_TOKEN?.trim()) return { kind: "oauthToken", value: env.CLAUDE_CODE_OAUTH_TOKEN.trim() };
    return undefined;
  };
  const chosen = pick();
  if (!chosen) return { agentEnv };
  return { agentEnv, credential: ModelCredential.parse({ ...chosen, ...(baseUrl ? { baseUrl } : {}) }) };
}

/** Where Claude Code keeps a logged-in home's credentials (`/login`), relative to the home. */
export const HOME_CREDENTIALS_FILE = ".claude/.credentials.json";

/**
 * The OAuth access token of a logged-in home's credentials file, as the proxy's credential: the file itself never
 * reaches the agent. Undefined when the file holds none.
 */
export function homeLoginCredential(content: string): ModelCredential | undefined {
  try {
    const token = (JSON.parse(content) as { claudeAiOauth?: { accessToken?: unknown } }).claudeAiOauth?.accessToken;
    return typeof token === "string" && token ? { kind: "oauthToken", value: token } : undefined;
  } catch {
    return undefined;
  }
}
