import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  envLines,
  HOME_CREDENTIALS_FILE,
  homeLoginCredential,
  type ModelJob,
  type SpecFile,
  splitModelCredential,
  type ThopterRecord,
  type ThopterRequest,
  type ThopterSpec,
} from "@thopter/protocol";
import type { ThopterAccess } from "../access/index.js";
import type { ThopterTokens } from "../collector/tokens.js";
import type { HomeFile } from "../profiles/index.js";
import { readThopterEnv, secretValues } from "./thopter-env.js";

/** Where a thopter finds what the hub gives it. The thopter side (image entrypoint, broker, agent init) reads these. */
export const THOPTER_PATHS = {
  /** Everything non-secret about the job, JSON (root-owned, world-readable). */
  config: "/etc/thopter/thopter.json",
  /** The prompt, rendered from PROMPTS_DIR/<prompt>.md (the agent reads it). */
  prompt: "/etc/thopter/prompt.md",
  /** The repository's coder token: root only (the push broker). */
  coderToken: "/etc/thopter/secrets/coder-token",
  /** Broker-role collector token: root only. */
  reportToken: "/etc/thopter/secrets/report-token",
  /** JSON list of the secret values the thopter holds (marked `.env.thopters` values, model credential): root only. */
  secrets: "/etc/thopter/secrets/thopter-secrets.json",
  /** Status-role collector token: the observer runs as the agent; this token can only post status. */
  statusToken: "/etc/thopter/status-token",
  /** THOPTER_ENV_FILE's KEY=value lines for Claude, agent-owned: everything but the model credential. */
  agentEnv: "/etc/thopter/agent.env",
  /** The model credential and endpoint (`ModelCredential` JSON): root only (the model proxy). */
  modelCredential: "/etc/thopter/secrets/model-credential.json",
  /** The key the hub signs web-terminal and session-log tokens with: root only (the agent must not mint its own). */
  accessKey: "/etc/thopter/secrets/access-key",
  /** A golden-claude profile's home files (local setups), copied into the agent's home at init. */
  profileHome: "/etc/thopter/profile-home",
} as const;

export interface SpecContext {
  /** The collector as thopters reach it, e.g. `http://hub.internal:8081`. */
  collectorUrl: string;
  githubApiUrl: string;
  promptsDir: string;
  thopterEnvFile: string;
  agentUser: { name: string; email: string };
  /** The GitHub App's bot as a git identity, for a repository the App serves (its commits then show the App). */
  botIdentity?(repo: string): Promise<{ name: string; email: string } | undefined>;
  /** The broker's GitHub token for this thopter: the repository's PAT, or a fresh GitHub App token. */
  coderToken(record: { id: string; repo: string }): Promise<string | undefined>;
  entrypoint: string[];
  /** The web terminal and session log: without it the thopter starts neither. */
  access?: {
    issue(thopterId: string): Promise<ThopterAccess>;
    /** Origins whose pages may connect (the hub's public URL, whose dashboard embeds them). */
    allowedOrigins: string[];
  };
  /** The repository's default branch, asked once per repository; without it (or on failure) the thopter asks. */
  defaultBranch?(repo: string): Promise<string>;
  /**
   * The golden-claude profile's model credential (`CLAUDE_CODE_OAUTH_TOKEN` or `ANTHROPIC_API_KEY`) for the agent's
   * env file: the agent must use it, and it is no GitHub token. `{}` for a profile without one.
   */
  profileEnv?(gc: string): Record<string, string>;
  /** The files of the golden-claude profile's home folder, when the profile is one (local setups); else undefined. */
  profileHome?(gc: string): Promise<HomeFile[] | undefined>;
  /** Variables every thopter's boot environment carries (the firewall settings, see `firewallEnv`). */
  thopterEnv?: Record<string, string>;
  /** The model proxy's budget and price table (MAX_COST_USD; the prices the hub uses). */
  model?: ModelJob;
}

/** The hub's firewall settings for thopters: `ALLOWED_DOMAINS`, and the opt-out only when it is exactly `I_UNDERSTAND`. */
export function firewallEnv(config: { ALLOWED_DOMAINS?: string; DANGEROUSLY_SKIP_FIREWALL?: string }) {
  const env: Record<string, string> = {};
  if (config.ALLOWED_DOMAINS) env.ALLOWED_DOMAINS = config.ALLOWED_DOMAINS;
  if (config.DANGEROUSLY_SKIP_FIREWALL === "I_UNDERSTAND") env.DANGEROUSLY_SKIP_FIREWALL = "I_UNDERSTAND";
  return env;
}

export interface SpecInput {
  record: Readonly<ThopterRecord>;
  request: ThopterRequest;
  tokens: ThopterTokens;
}

function file(path: string, content: string | Buffer, mode: number, owner: SpecFile["owner"]): SpecFile {
  return { path, contentBase64: Buffer.from(content).toString("base64"), mode, owner };
}

/** `{{name}}` placeholders of a prompt template; an unknown one is left as it is, so a typo shows in the prompt. */
export function renderPrompt(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => values[name] ?? whole);
}

/** Builds the spec both providers boot from: job description, rendered prompt, and each secret in its own file. */
export function specBuilder(context: SpecContext): (input: SpecInput) => Promise<ThopterSpec> {
  return async ({ record, request, tokens }) => {
    const coderToken = await context.coderToken(record);
    if (!coderToken) throw new Error(`GITHUB_INTEGRATION_JSON has no coderToken for ${record.repo}`);
    const instructions = request.command.kind === "start" ? request.command.instructions : "";
    const templatePath = join(context.promptsDir, `${record.prompt}.md`);
    // Independent reads and writes, at once: this is on the way from a command to its machine.
    const [template, thopterEnv, home, access, defaultBranch, bot] = await Promise.all([
      readFile(templatePath, "utf8").catch((err: Error) => {
        throw new Error(`cannot read prompt ${templatePath}: ${err.message}`);
      }),
      readThopterEnv(context.thopterEnvFile),
      context.profileHome?.(record.gc),
      context.access?.issue(record.id),
      // Only a shortcut: a thopter without it asks GitHub itself, so a failed lookup must not fail the provisioning.
      context.defaultBranch?.(record.repo).catch(() => undefined),
      context.botIdentity?.(record.repo),
    ]);
    const prompt = renderPrompt(template, {
      repository: record.repo,
      repoName: record.repo.split("/")[1]!,
      issueNumber: String(record.issueNumber),
      workBranch: record.branch,
      issueTitle: record.issueTitle,
      instructions,
    });
    // The model credential goes to the root-only proxy; the agent's env file and home get the rest. A profile home's
    // login file is never delivered: its token is the credential when nothing else is.
    const profileEnv = context.profileEnv?.(record.gc);
    const model = splitModelCredential({ ...thopterEnv.values, ...profileEnv });
    const login = home?.find((f) => f.path === HOME_CREDENTIALS_FILE);
    const credential = model.credential ?? (login && homeLoginCredential(login.content.toString("utf8")));
    const profileFiles = (home ?? []).filter((f) => f !== login);
    const job = {
      thopterId: record.id,
      repo: record.repo,
      issueNumber: record.issueNumber,
      issueTitle: record.issueTitle,
      workBranch: record.branch,
      gc: record.gc,
      prompt: record.prompt,
      instructions,
      collectorUrl: context.collectorUrl,
      githubApiUrl: context.githubApiUrl,
      agentUser: bot ?? context.agentUser,
      files: THOPTER_PATHS,
      defaultBranch,
      profileHome: home && THOPTER_PATHS.profileHome,
      model: context.model ?? {},
      access: access && {
        keyFile: THOPTER_PATHS.accessKey,
        host: access.host,
        terminalPort: access.terminalPort,
        logPort: access.logPort,
        allowedOrigins: context.access!.allowedOrigins,
      },
    };
    // Everything secret the thopter holds, the model credential whatever its source, for the broker's scan.
    const secrets = [...secretValues(thopterEnv, profileEnv), ...(credential ? [credential.value] : [])];
    return {
      thopterId: record.id,
      env: { ...context.thopterEnv, THOPTER_ID: record.id, THOPTER_CONFIG: THOPTER_PATHS.config },
      files: [
        file(THOPTER_PATHS.config, `${JSON.stringify(job, null, 2)}\n`, 0o644, "root"),
        file(THOPTER_PATHS.prompt, prompt, 0o644, "thopter"),
        file(THOPTER_PATHS.coderToken, coderToken, 0o600, "root"),
        file(THOPTER_PATHS.reportToken, tokens.broker, 0o600, "root"),
        file(THOPTER_PATHS.statusToken, tokens.status, 0o600, "thopter"),
        file(THOPTER_PATHS.secrets, JSON.stringify([...new Set(secrets)]), 0o600, "root"),
        file(THOPTER_PATHS.agentEnv, envLines(model.agentEnv), 0o600, "thopter"),
        ...(credential ? [file(THOPTER_PATHS.modelCredential, JSON.stringify(credential), 0o600, "root")] : []),
        ...(access ? [file(THOPTER_PATHS.accessKey, access.key, 0o600, "root")] : []),
        ...profileFiles.map((f) => file(`${THOPTER_PATHS.profileHome}/${f.path}`, f.content, f.mode, "thopter")),
      ],
      entrypoint: context.entrypoint,
    };
  };
}
