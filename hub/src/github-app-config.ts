import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";

/** The GitHub App the hub mints installation tokens with; absent when every repository uses PATs. */
export interface GithubAppConfig {
  appId: string;
  /** PEM text of the App's RSA private key (a secret: only ever given to `@octokit/auth-app`). */
  privateKey: string;
}

/** The App's numeric ID, as its settings page shows it. */
export const appIdSchema = z
  .string()
  .trim()
  .regex(/^[1-9]\d{0,15}$/, "is not a GitHub App ID (a whole number)");

export const APP_FIX = {
  GITHUB_APP_ID: "set it to the App ID shown on the GitHub App's settings page (see docs/github-app.md)",
  GITHUB_APP_PRIVATE_KEY_FILE:
    "set it to the .pem file generated under the App's Private keys (see docs/github-app.md)",
  GITHUB_APP_PRIVATE_KEY: "set it to the PEM text of the App's private key, or use GITHUB_APP_PRIVATE_KEY_FILE instead",
} as const;
type AppVariable = keyof typeof APP_FIX;

export interface AppVariables {
  GITHUB_APP_ID?: string;
  GITHUB_APP_PRIVATE_KEY_FILE?: string;
  GITHUB_APP_PRIVATE_KEY?: string;
}

/** A problem with the App's variables: which one, and the one-line message (never the key itself). */
export class AppConfigProblem extends Error {
  constructor(
    readonly variable: AppVariable,
    problem: string,
  ) {
    super(`${variable}: ${problem}; ${APP_FIX[variable]}`);
  }
}

/** Checks the PEM is an RSA private key (what GitHub generates); the reason never quotes the key. */
function checkKey(pem: string, variable: AppVariable): string {
  let type: string | undefined;
  try {
    type = createPrivateKey(pem).asymmetricKeyType;
  } catch {
    throw new AppConfigProblem(variable, "is not a PEM private key (expected -----BEGIN RSA PRIVATE KEY-----)");
  }
  if (type !== "rsa") throw new AppConfigProblem(variable, `is a ${type} key, but GitHub App keys are RSA`);
  return pem;
}

/**
 * The App configuration from its three variables, or undefined when none is set. Exactly one key source, and the ID
 * with it; the key must read and parse. Throws `AppConfigProblem`.
 */
export function loadGithubApp(vars: AppVariables): GithubAppConfig | undefined {
  const { GITHUB_APP_ID: appId, GITHUB_APP_PRIVATE_KEY_FILE: file, GITHUB_APP_PRIVATE_KEY: inline } = vars;
  if (appId === undefined && file === undefined && inline === undefined) return undefined;
  if (file !== undefined && inline !== undefined) {
    throw new AppConfigProblem("GITHUB_APP_PRIVATE_KEY", "is set together with GITHUB_APP_PRIVATE_KEY_FILE");
  }
  if (file === undefined && inline === undefined) {
    throw new AppConfigProblem("GITHUB_APP_PRIVATE_KEY_FILE", "is missing (GITHUB_APP_ID is set)");
  }
  if (appId === undefined) throw new AppConfigProblem("GITHUB_APP_ID", "is missing (an App private key is set)");
  if (inline !== undefined) {
    // One-line .env values carry the PEM's line breaks as the two characters \n.
    return { appId, privateKey: checkKey(inline.replace(/\\n/g, "\n"), "GITHUB_APP_PRIVATE_KEY") };
  }
  let pem: string;
  try {
    pem = readFileSync(file!, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
    throw new AppConfigProblem("GITHUB_APP_PRIVATE_KEY_FILE", `cannot read ${file} (${code})`);
  }
  return { appId, privateKey: checkKey(pem, "GITHUB_APP_PRIVATE_KEY_FILE") };
}
