import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import pino, { type Logger } from "pino";
import { auditLogger, createAudit } from "./audit.js";
import { CoderToken, type CoderTokenOptions } from "./coder-token.js";
import type { BrokerConfig } from "./config.js";
import { Mirror } from "./git/mirror.js";
import { createGitHub, repoRef } from "./github.js";
import { Mutex } from "./mutex.js";
import { Outbox } from "./outbox.js";
import { Budgets } from "./rate-limit.js";
import { makeRedactor, type Redact } from "./redaction.js";
import { listen, MCP_PATH } from "./server.js";
import type { ToolContext } from "./tools/types.js";

export interface Broker {
  /** `http://127.0.0.1:<port>/mcp` */
  url: string;
  port: number;
  outbox: Outbox;
  close(): Promise<void>;
}

export interface BrokerOptions {
  log?: Logger;
  /** Renewal timing of a GitHub App token (tests shorten it). */
  coderToken?: Pick<CoderTokenOptions, "renewBeforeMs" | "firstRenewalMs">;
}

/** State directory layout: everything root-owned, mode 0700. */
export function statePaths(stateDir: string) {
  return {
    outbox: join(stateDir, "outbox"),
    home: join(stateDir, "home"),
    auditLog: join(stateDir, "audit.log"),
  };
}

/**
 * Boots the broker: asks GitHub where the repository lives, clones it into the root-owned mirror, resumes the
 * outbox, and listens on 127.0.0.1.
 */
export async function startBroker(config: BrokerConfig, opts: BrokerOptions = {}): Promise<Broker> {
  const log = opts.log ?? pino({ name: "broker" });
  const coderToken = new CoderToken({
    initial: config.coderToken,
    collectorUrl: config.collectorUrl,
    reportToken: config.reportToken,
    log,
    ...opts.coderToken,
  });
  // Renewed GitHub tokens join the redaction list as they arrive (coderToken.all is live).
  const redact: Redact = (text) =>
    makeRedactor([...coderToken.all, config.reportToken, config.mcpKey, ...config.secrets])(text);
  const paths = statePaths(config.stateDir);
  for (const dir of [config.stateDir, paths.outbox, paths.home]) mkdirSync(dir, { recursive: true, mode: 0o700 });

  const github = createGitHub(config.githubApiUrl, coderToken, log);
  const repo = repoRef(config.repo);
  const { data: info } = await github.rest.repos.get(repo);
  const mirror = new Mirror({
    path: config.mirror,
    cloneUrl: info.clone_url,
    token: () => coderToken.current,
    home: paths.home,
    timeoutMs: config.limits.gitTimeoutMs,
  });
  await mirror.init();

  const outbox = new Outbox({
    dir: paths.outbox,
    url: new URL("/v1/reports", config.collectorUrl).toString(),
    token: config.reportToken,
    log,
    ...config.outbox,
  });
  outbox.start();
  const audit = createAudit(auditLogger(paths.auditLog), outbox, redact);
  const ctx: ToolContext = {
    config,
    mirror,
    github,
    coderToken,
    repo,
    htmlUrl: info.html_url,
    outbox,
    redact,
    gitLock: new Mutex(),
    budgets: new Budgets(config.limits.rates),
  };
  const server = await listen(ctx, audit, log, config.port);
  const { port } = server.server.address() as AddressInfo;
  log.info({ port, repo: config.repo, branch: config.workBranch }, "broker listening on 127.0.0.1");
  return {
    url: `${server.url}${MCP_PATH}`,
    port,
    outbox,
    async close() {
      await server.close();
      coderToken.close();
      await outbox.stop();
      audit.close();
    },
  };
}
