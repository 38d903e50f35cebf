import { lstat, readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { z } from "zod";
import { parseCidr } from "./cidr.js";
import { type HostRule, nameservers } from "./dns.js";
import { FirewallError } from "./error.js";
import type { GithubMetaSource } from "./github-meta.js";
import type { AllowEntry } from "./ruleset.js";

export const SKIP_VARIABLE = "DANGEROUSLY_SKIP_FIREWALL";
export const SKIP_VALUE = "I_UNDERSTAND";
/** What the thopter says, loudly, when it runs without a firewall; the hub shows it on the dashboard. */
export const SKIPPED_WARNING =
  "FIREWALL DISABLED (DANGEROUSLY_SKIP_FIREWALL=I_UNDERSTAND): this thopter can reach any address, " +
  "including the private network and any server an exfiltrated secret could be sent to";

/**
 * Hosts Claude Code needs. The API and the npm registry are required; the others (telemetry, error reports, login)
 * only make it nicer, so a name that does not resolve is a warning rather than a failed boot.
 */
export const DEFAULT_HOSTS: readonly Omit<HostRule, "from">[] = [
  { host: "api.anthropic.com", required: true },
  { host: "registry.npmjs.org", required: true },
  { host: "statsig.anthropic.com", required: false },
  { host: "sentry.io", required: false },
  { host: "console.anthropic.com", required: false },
  { host: "claude.ai", required: false },
];

/**
 * The variables the firewall reads: only the root-controlled boot env and THOPTER_CONFIG, never a file the agent
 * can edit (it could otherwise widen its own allow-list on the next boot).
 * - DANGEROUSLY_SKIP_FIREWALL: `I_UNDERSTAND` runs without a firewall; any other non-empty value is an error.
 * - THOPTER_CONFIG: the hub's job file; its `collectorUrl` and `githubApiUrl` are used unless the env sets them.
 * - COLLECTOR_URL: the hub collector (`http://HOST:HUB_STATUS_PORT`), the only private destination allowed.
 * - GITHUB_API_URL (default https://api.github.com): `/meta` is fetched from it, and its host is allowed.
 * - GITHUB_META_FILE: a saved `/meta` body to use instead of fetching it (offline, or pinned).
 * - ALLOWED_DOMAINS: extra destinations, comma- or space-separated host names (resolved at boot) or CIDRs.
 * - FIREWALL_RESOLVERS: the DNS servers allowed, instead of the `nameserver` lines of /etc/resolv.conf.
 * - ANTHROPIC_BASE_URL: a model endpoint other than api.anthropic.com; its host is allowed.
 */
export type FirewallEnv = Partial<
  Record<
    | typeof SKIP_VARIABLE
    | "THOPTER_CONFIG"
    | "COLLECTOR_URL"
    | "GITHUB_API_URL"
    | "GITHUB_META_FILE"
    | "ALLOWED_DOMAINS"
    | "FIREWALL_RESOLVERS"
    | "ANTHROPIC_BASE_URL",
    string
  >
>;

export interface FirewallSettings {
  github: GithubMetaSource;
  /** The hub collector: a host name (resolved) or an address, and its TCP port. */
  collector: { host: string; port: number };
  resolvers: string[];
  /** Names resolved at boot and allowed on every port. */
  hosts: HostRule[];
  /** Addresses and networks allowed as written. */
  literals: AllowEntry[];
}

/**
 * Whether the firewall is switched off. Only the exact value counts: anything else in the variable (`1`, `true`,
 * a typo) is a mistake that must not silently weaken or keep the firewall, so it stops the boot.
 */
export function skipRequested(env: FirewallEnv): boolean {
  const value = env[SKIP_VARIABLE];
  if (value === undefined || value === "") return false;
  if (value === SKIP_VALUE) return true;
  throw new FirewallError(
    `${SKIP_VARIABLE}=${JSON.stringify(value)} is not understood: set it to ${SKIP_VALUE} to run without a firewall, or unset it`,
  );
}

/** The part of the thopter's job file (`THOPTER_CONFIG`, written by the hub) that says where the hub and GitHub are. */
const ThopterJob = z.looseObject({ collectorUrl: z.string().optional(), githubApiUrl: z.string().optional() });
type ThopterJob = z.infer<typeof ThopterJob>;

async function readThopterJob(path: string | undefined): Promise<ThopterJob> {
  if (!path) return {};
  try {
    const st = await lstat(path);
    // The agent must not be able to choose its own allow-list on the next boot: only root (whom we run as) may write it.
    if (!st.isFile() || (st.uid !== 0 && st.uid !== process.getuid?.()) || (st.mode & 0o022) !== 0) {
      throw new FirewallError(`THOPTER_CONFIG ${path} must be a regular file owned by root and writable only by root`);
    }
    const parsed = ThopterJob.safeParse(JSON.parse(await readFile(path, "utf8")));
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0]!;
    throw new FirewallError(`THOPTER_CONFIG ${path}: ${issue.path.join(".") || "(file)"}: ${issue.message}`);
  } catch (err) {
    if (err instanceof FirewallError) throw err;
    throw new FirewallError(`THOPTER_CONFIG ${path}: ${(err as Error).message.split("\n")[0]}`);
  }
}

function parseUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new FirewallError(`${what} ${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new FirewallError(`${what} ${JSON.stringify(value)} must be an http(s) URL`);
  }
  return url;
}

/** `[2001:db8::1]` → `2001:db8::1`: URL keeps the brackets of an IPv6 host. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

/** A DNS name: dot-separated labels of letters, digits, `-` and `_`, at most 253 characters. */
const HOST_NAME = /^(?=.{1,253}\.?$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*\.?$/i;

/** Something to allow, before we know whether it is a name to resolve or an address. */
interface Wanted {
  target: string;
  required: boolean;
  from: string;
}

/** Entries meant as addresses: an IPv6 address, a CIDR, or digits and dots (a mistyped IPv4 address). */
const LOOKS_LITERAL = /[:/]|^[\d.]+$/;

function classify(wanted: Wanted): { host?: HostRule; literal?: AllowEntry } {
  const { target, from } = wanted;
  if (target.includes("://"))
    throw new FirewallError(`${from}: ${JSON.stringify(target)}: give the host name, not a URL`);
  if (isIP(target) !== 0 || LOOKS_LITERAL.test(target)) {
    parseCidr(target, from); // a typo stops the boot here, before anything is fetched or resolved
    return { literal: { cidr: target, from } };
  }
  if (target.includes("*")) {
    throw new FirewallError(`${from}: ${JSON.stringify(target)}: wildcards cannot be resolved; list each host name`);
  }
  if (!HOST_NAME.test(target)) throw new FirewallError(`${from}: ${JSON.stringify(target)} is not a host name`);
  return { host: { host: target, required: wanted.required, from } };
}

function defaultPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

/**
 * Everything the firewall allows, from the env and THOPTER_CONFIG (env wins). Nothing is resolved or fetched
 * yet; a malformed value throws a FirewallError naming the variable.
 */
export async function readSettings(env: FirewallEnv, resolvConfPath = "/etc/resolv.conf"): Promise<FirewallSettings> {
  const job = await readThopterJob(env.THOPTER_CONFIG);
  const githubApiUrl = env.GITHUB_API_URL || job.githubApiUrl || "https://api.github.com";
  const collectorUrl = env.COLLECTOR_URL || job.collectorUrl;
  if (!collectorUrl) {
    throw new FirewallError("the hub collector is unknown: set COLLECTOR_URL or give THOPTER_CONFIG with collectorUrl");
  }
  const collector = parseUrl(collectorUrl, "COLLECTOR_URL");
  const urlHost = (value: string, from: string): Wanted => ({
    target: hostOf(parseUrl(value, from)),
    required: true,
    from,
  });
  const wanted: Wanted[] = [
    ...DEFAULT_HOSTS.map(({ host, required }) => ({ target: host, required, from: "default allow-list" })),
    urlHost(githubApiUrl, "GITHUB_API_URL"),
    ...(env.ANTHROPIC_BASE_URL ? [urlHost(env.ANTHROPIC_BASE_URL, "ANTHROPIC_BASE_URL")] : []),
    ...list(env.ALLOWED_DOMAINS).map((target) => ({ target, required: true, from: "ALLOWED_DOMAINS" })),
  ];
  const classified = wanted.map(classify);
  return {
    github: { apiUrl: githubApiUrl, file: env.GITHUB_META_FILE || undefined },
    collector: { host: hostOf(collector), port: defaultPort(collector) },
    resolvers: await resolvers(env, resolvConfPath),
    hosts: classified.flatMap((c) => (c.host ? [c.host] : [])),
    literals: classified.flatMap((c) => (c.literal ? [c.literal] : [])),
  };
}

/** A comma- (or space-) separated list. */
function list(value: string | undefined): string[] {
  return (value ?? "").split(/[\s,]+/).filter(Boolean);
}

async function resolvers(env: FirewallEnv, resolvConfPath: string): Promise<string[]> {
  if (env.FIREWALL_RESOLVERS) return list(env.FIREWALL_RESOLVERS);
  try {
    return nameservers(await readFile(resolvConfPath, "utf8"));
  } catch (err) {
    throw new FirewallError(`cannot read ${resolvConfPath} (${(err as Error).message}): set FIREWALL_RESOLVERS`);
  }
}
