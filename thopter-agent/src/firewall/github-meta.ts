import { readFile } from "node:fs/promises";
import { z } from "zod";
import { FirewallError } from "./error.js";
import type { AllowEntry } from "./ruleset.js";

/**
 * The `/meta` lists a thopter needs: git and the API (the broker's pushes and calls), the web and packages hosts
 * (clones of dependencies, release downloads, ghcr). `actions`, `hooks`, `codespaces`… are left closed: they are
 * large cloud ranges a thopter has no business reaching.
 */
export const GITHUB_META_KEYS = ["git", "api", "web", "packages"] as const;

const Ranges = z.array(z.string()).optional();
/** The part of GitHub's `GET /meta` (schema `api-overview`) we read; other keys are ignored. */
const GithubMeta = z.looseObject({ git: Ranges, api: Ranges, web: Ranges, packages: Ranges });

const FETCH_TIMEOUT_MS = 15_000;

/** Where `/meta` comes from: a file (offline, or a pinned copy) or `GET <apiUrl>/meta`. */
export interface GithubMetaSource {
  apiUrl: string;
  file?: string | undefined;
}

async function fetchMeta(apiUrl: string): Promise<unknown> {
  const url = `${apiUrl.replace(/\/+$/, "")}/meta`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: "application/vnd.github+json", "user-agent": "thopter-firewall" },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new FirewallError(`cannot fetch GitHub's address ranges from ${url}: ${cause}; check GITHUB_API_URL`);
  }
  if (!response.ok) {
    throw new FirewallError(`GET ${url} answered ${response.status}: check GITHUB_API_URL, or give GITHUB_META_FILE`);
  }
  try {
    return await response.json();
  } catch {
    throw new FirewallError(`GET ${url} did not answer JSON: check GITHUB_API_URL`);
  }
}

async function readMeta(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new FirewallError(`GITHUB_META_FILE ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new FirewallError(`GITHUB_META_FILE ${file} is not JSON: save the body of GET /meta there`);
  }
}

/**
 * GitHub's published ranges for GITHUB_META_KEYS, each with its origin. A body with none of those keys (an error
 * page, a proxy's answer) is refused: the thopter would boot unable to reach GitHub.
 */
export function githubRanges(body: unknown, origin: string): AllowEntry[] {
  const parsed = GithubMeta.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FirewallError(`${origin}: ${issue.path.join(".") || "body"}: ${issue.message}`);
  }
  const present = GITHUB_META_KEYS.filter((key) => parsed.data[key] !== undefined);
  if (present.length === 0) {
    throw new FirewallError(`${origin} has none of ${GITHUB_META_KEYS.join(", ")}: it is not GitHub's /meta`);
  }
  return present.flatMap((key) => (parsed.data[key] ?? []).map((cidr) => ({ cidr, from: `${origin} ${key}` })));
}

export async function loadGithubRanges(source: GithubMetaSource): Promise<AllowEntry[]> {
  if (source.file) return githubRanges(await readMeta(source.file), `GITHUB_META_FILE ${source.file}`);
  return githubRanges(await fetchMeta(source.apiUrl), `${source.apiUrl.replace(/\/+$/, "")}/meta`);
}
