import { execFileSync } from "node:child_process";
import { lstatSync, readFileSync } from "node:fs";
import { isAbsolute } from "node:path";
import { Isolation, RepoFullName } from "@thopter/protocol";
import { z } from "zod";

export const AbsPath = z.string().refine(isAbsolute, "must be an absolute path");
/** Branch names reach git as part of a refspec: only characters that cannot start an option or a second refspec. */
const BranchName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/, "must be a plain branch name (letters, digits, . _ / -)")
  .refine((b) => !b.includes("..") && !b.endsWith(".lock") && !b.endsWith("/") && !b.includes("//"), {
    message: "is not a valid git branch name",
  });
export const HttpUrl = z.url({ protocol: /^https?$/ });
const MINUTE = 60_000;
/**
 * A per-thopter budget of one kind of GitHub call: at most `max` in any `windowMs` (rate-limit.ts). The defaults
 * are far above honest work and far below what one looping agent would take from the swarm's shared token (README).
 */
const Rate = z.strictObject({ max: z.number().int().positive(), windowMs: z.number().int().positive() });

export const BrokerConfigFile = z.strictObject({
  /** `owner/name` of the repository the thopter works on. */
  repo: RepoFullName,
  issueNumber: z.number().int().positive(),
  workBranch: BranchName,
  defaultBranch: BranchName,
  githubApiUrl: HttpUrl.default("https://api.github.com"),
  /** Where the hub's collector listens (`POST /v1/reports` is appended). */
  collectorUrl: HttpUrl,
  coderTokenFile: AbsPath,
  reportTokenFile: AbsPath,
  /**
   * Root-only JSON list of the other secrets the thopter holds (the model credential, `.env.thopters` values marked
   * secret): scrubbed from everything the broker sends and refused in pushes, like the coder token.
   */
  secretsFile: AbsPath.optional(),
  /** The unprivileged user the agent runs as; bundles are created with its uid/gid. */
  agentUser: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a Unix user name"),
  /** Absent means "full"; "off" only when the broker is not root and the agent is its own user (see checkIsolation). */
  isolation: Isolation.optional(),
  /** The agent's clone. The broker only ever runs git there as `agentUser`. */
  workspace: AbsPath,
  /** Root-owned bare mirror of origin; the agent fetches from it. */
  mirror: AbsPath,
  /** Root-owned directory for the outbox, the audit log and git's HOME. */
  stateDir: AbsPath,
  /** Bearer key the agent's Claude config sends to the MCP endpoint. */
  mcpKey: z.string().min(32, "must be at least 32 characters"),
  port: z.number().int().min(0).max(65_535).default(0),
  /** When set, `main` writes the agent's Claude Code MCP config here once the server listens. */
  agentMcpConfigPath: AbsPath.optional(),
  limits: z
    .strictObject({
      maxPushBytes: z
        .number()
        .int()
        .positive()
        .default(1024 * 1024 * 1024),
      maxFileBytes: z
        .number()
        .int()
        .positive()
        .default(100 * 1024 * 1024),
      rates: z
        .strictObject({
          comments: Rate.default({ max: 5, windowMs: 10 * MINUTE }),
          pushes: Rate.default({ max: 10, windowMs: 5 * MINUTE }),
          pullRequests: Rate.default({ max: 5, windowMs: 10 * MINUTE }),
          issueReads: Rate.default({ max: 30, windowMs: 5 * MINUTE }),
          originFetches: Rate.default({ max: 20, windowMs: 5 * MINUTE }),
          pullReads: Rate.default({ max: 30, windowMs: 5 * MINUTE }),
        })
        .prefault({}),
      gitTimeoutMs: z
        .number()
        .int()
        .positive()
        .default(10 * 60_000),
    })
    .prefault({}),
  /** Backoff between attempts to reach a collector that is down: doubles from min to max. */
  outbox: z
    .strictObject({
      minDelayMs: z.number().int().positive().default(1_000),
      maxDelayMs: z.number().int().positive().default(60_000),
    })
    .prefault({}),
});
export type BrokerConfigFile = z.infer<typeof BrokerConfigFile>;
/** The file as written: optional fields (defaults, limits, single rates) may be left out. */
export type BrokerConfigInput = z.input<typeof BrokerConfigFile>;

export interface AgentIdentity {
  user: string;
  uid: number;
  gid: number;
  home: string;
}

/** The validated file plus what it points at: secrets read from their root-only files, the agent resolved. */
export interface BrokerConfig extends BrokerConfigFile {
  coderToken: string;
  reportToken: string;
  /** The contents of `secretsFile` ([] without one). */
  secrets: string[];
  agent: AgentIdentity;
}

export class ConfigError extends Error {}

/** One line naming the first bad field, so a misconfigured thopter says exactly what to fix. */
function describe(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const field = issue.path.length ? issue.path.join(".") : "(file)";
  return `broker config: ${field}: ${issue.message}`;
}

export function parseConfigFile(raw: unknown): BrokerConfigFile {
  const parsed = BrokerConfigFile.safeParse(raw);
  if (!parsed.success) throw new ConfigError(describe(parsed.error));
  return parsed.data;
}

/**
 * Reads a secret from a file only the broker's user (root, unless isolation is off) can read. A file the agent could
 * write (or swap via a symlink) would let it choose the token, and one it could read would leak it, so anything else
 * is refused.
 */
export function readSecretFile(path: string, field: string, label = "broker config"): string {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch {
    throw new ConfigError(`${label}: ${field}: ${path} does not exist`);
  }
  if (!st.isFile()) throw new ConfigError(`${label}: ${field}: ${path} must be a regular file, not a link`);
  if (st.uid !== process.getuid?.() || (st.mode & 0o077) !== 0) {
    throw new ConfigError(`${label}: ${field}: ${path} must be owned by this process's user with mode 0600`);
  }
  const value = readFileSync(path, "utf8").trim();
  if (!value) throw new ConfigError(`${label}: ${field}: ${path} is empty`);
  return value;
}

const SecretsList = z.array(z.string().min(1));

/** `secretsFile`: a JSON list of strings, in a file as guarded as the tokens' (none held: `[]`). */
export function readSecretsList(path: string): string[] {
  const text = readSecretFile(path, "secretsFile");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const parsed = SecretsList.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`broker config: secretsFile: ${path} must hold a JSON list of strings`);
  return parsed.data;
}

export function resolveAgent(user: string, label = "broker config"): AgentIdentity {
  let line: string;
  try {
    line = execFileSync("getent", ["passwd", user], { encoding: "utf8" }).trim();
  } catch {
    throw new ConfigError(`${label}: agentUser: no such user ${user}`);
  }
  const [, , uid, gid, , home] = line.split(":");
  return { user, uid: Number(uid), gid: Number(gid), home: home || "/" };
}

/**
 * Whether the broker, running as `brokerUid`, can keep its promise for `isolation`: with "full" it must be root and
 * the agent another user (git runs as the agent, whose tokens it cannot read); with "off" it must not be root and the
 * agent must be itself. Everything else is refused with what to change, never silently downgraded.
 */
export function checkIsolation(
  isolation: Isolation | undefined,
  agent: AgentIdentity,
  brokerUid = process.getuid?.() ?? -1,
): void {
  if (isolation === "off") {
    if (brokerUid === 0) {
      throw new ConfigError(
        'broker config: isolation: "off" is refused as root: a root broker always keeps the token from a separate agent user; remove the setting',
      );
    }
    if (agent.uid !== brokerUid) {
      throw new ConfigError(
        `broker config: agentUser: with isolation "off" the agent is the broker's own user (uid ${brokerUid}), not ${agent.user} (uid ${agent.uid})`,
      );
    }
    return;
  }
  if (brokerUid !== 0) {
    throw new ConfigError(
      `broker config: isolation: the broker runs as uid ${brokerUid}, not root, so it can neither keep the token from ${agent.user} nor run git as that user: run it as root, or set "isolation": "off" with agentUser set to the broker's own user (the agent can then read the token)`,
    );
  }
  if (agent.uid === 0) throw new ConfigError("broker config: agentUser: must not be root");
}

export function loadConfig(path: string): BrokerConfig {
  readSecretFile(path, "config file");
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ConfigError(`broker config: ${path} is not valid JSON (${(err as Error).message})`);
  }
  const file = parseConfigFile(raw);
  const resolved = resolveAgent(file.agentUser);
  checkIsolation(file.isolation, resolved);
  // Without isolation the agent is this very process's user: git runs with its current group, which setgid accepts.
  const agent = file.isolation === "off" ? { ...resolved, gid: process.getgid?.() ?? resolved.gid } : resolved;
  return {
    ...file,
    coderToken: readSecretFile(file.coderTokenFile, "coderTokenFile"),
    reportToken: readSecretFile(file.reportTokenFile, "reportTokenFile"),
    secrets: file.secretsFile ? readSecretsList(file.secretsFile) : [],
    agent,
  };
}
