import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { BrokerReport, LOG_CHUNK_MAX_BYTES, LOGS_PATH, LogChunkQuery, StatusReport } from "@thopter/protocol";
import type { Listening } from "@thopter/protocol/listen";
import type { Logger } from "pino";
import getRawBody from "raw-body";
import type { z } from "zod";
import { listenOn } from "../http/listen-port.js";
import { type LogArchive, TooManyFiles } from "../logs/archive.js";
import type { Registry, UpdateResult } from "../registry/index.js";
import { pendingFollowUps } from "../requests/live-follow-ups.js";
import { applyBrokerReport, applyStatus } from "./apply.js";
import { GITHUB_TOKEN_RATE, LOGS_RATE, PerThopterRate, type Rate, STATUS_RATE } from "./rate-limit.js";
import type { TokenRole, TokenStore } from "./tokens.js";

/** Large enough for the biggest valid report (a 20,000-character summary, all 4-byte characters) and no more. */
export const DEFAULT_MAX_BODY_BYTES = 128 * 1024;

export interface CollectorOptions {
  registry: Registry;
  tokens: TokenStore;
  log: Logger;
  maxBodyBytes?: number;
  /** Per-thopter limit on `POST /v1/status` (STATUS_RATE by default). */
  statusRate?: Rate;
  /**
   * `POST /v1/github-token` (broker role): a fresh GitHub App token for the thopter's repository, so the broker
   * renews before expiry while the App's key stays here. Undefined for a repository that uses a PAT.
   */
  githubToken?: (thopterId: string, repo: string) => Promise<{ token: string; expiresAt: string } | undefined>;
  /** Where `POST /v1/logs` keeps what thopters stream; without it the route answers 404. */
  archive?: LogArchive;
}

const GITHUB_TOKEN_PATH = "/v1/github-token";

interface Endpoint<S extends z.ZodType> {
  role: TokenRole;
  schema: S;
  apply(registry: Registry, thopterId: string, report: z.infer<S>): Promise<UpdateResult>;
}

const ENDPOINTS: Record<string, Endpoint<typeof StatusReport> | Endpoint<typeof BrokerReport>> = {
  "/v1/status": { role: "status", schema: StatusReport, apply: applyStatus },
  "/v1/reports": { role: "broker", schema: BrokerReport, apply: applyBrokerReport },
};

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function bearer(req: IncomingMessage): string {
  const header = req.headers.authorization;
  if (!header) throw new Refusal(401, "missing Authorization: Bearer <token> header");
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new Refusal(401, "Authorization header must be 'Bearer <token>'");
  return match[1]!;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  try {
    return await getRawBody(req, { limit, length: req.headers["content-length"] });
  } catch (err) {
    const e = err as getRawBody.RawBodyError;
    if (e.type === "entity.too.large") throw new Refusal(413, `body is larger than ${limit} bytes`);
    throw new Refusal(e.status ?? 400, `could not read body: ${e.message}`);
  }
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = (await readBody(req, limit)).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Refusal(400, `body is not JSON: ${(err as Error).message}`);
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "body"}: ${i.message}`)
    .join("; ");
}

/**
 * The collector: where observers (`POST /v1/status`) and brokers (`POST /v1/reports`) report, each with its own
 * per-thopter bearer token. Plain node:http, because it sits on the hot path of every hook of every thopter.
 * A 2xx means the report is applied and, if it changed anything that matters, already in the store.
 */
export function createCollector(options: CollectorOptions): Server {
  const { registry, tokens, log } = options;
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const statusRate = options.statusRate ?? STATUS_RATE;
  const rate = new PerThopterRate(statusRate);
  const renewals = new PerThopterRate(GITHUB_TOKEN_RATE);
  const logChunks = new PerThopterRate(LOGS_RATE);

  /** Refuses a status report over the thopter's rate before its body is read; logs once per run of refusals. */
  function checkRate(thopterId: string): void {
    const { retryAfter, refused } = rate.take(thopterId);
    if (retryAfter === 0) {
      if (refused > 0) log.info({ thopterId, refused }, "status reports back under the rate limit");
      return;
    }
    if (refused === 1) log.warn({ thopterId, ...statusRate }, "status reports over the rate limit; answering 429");
    throw new Refusal(
      429,
      `more than ${statusRate.burst} status reports in a burst or ${statusRate.perSecond}/s from this thopter; retry after ${retryAfter} s`,
      { "retry-after": String(retryAfter) },
    );
  }

  /** The live thopter a request's bearer token names in `role`, or a 401. */
  function authenticate(req: IncomingMessage, role: TokenRole) {
    const thopterId = tokens.verify(bearer(req), role);
    if (thopterId === undefined) throw new Refusal(401, `token is not a valid ${role} token for ${req.url}`);
    const record = registry.get(thopterId);
    if (!record || record.state === "gone") {
      rate.forget(thopterId);
      throw new Refusal(401, `thopter ${thopterId} is gone`);
    }
    return record;
  }

  async function renewGithubToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST") throw new Refusal(405, `${req.url} takes POST`);
    const record = authenticate(req, "broker");
    req.resume();
    const { retryAfter, refused } = renewals.take(record.id);
    if (retryAfter > 0) {
      if (refused === 1) log.warn({ thopterId: record.id }, "GitHub token renewals over the rate limit; answering 429");
      throw new Refusal(429, `too many GitHub token renewals from this thopter; retry after ${retryAfter} s`, {
        "retry-after": String(retryAfter),
      });
    }
    const minted = await options.githubToken?.(record.id, record.repo);
    if (!minted) throw new Refusal(404, `${record.repo} uses a personal access token: there is nothing to renew`);
    log.info({ thopterId: record.id, expiresAt: minted.expiresAt }, "GitHub App token renewed for the broker");
    send(res, 200, minted);
  }

  /** `POST /v1/logs`: a chunk of the boot log or a transcript, from boot (root) with the broker-role token. */
  async function appendLog(req: IncomingMessage, res: ServerResponse, archive: LogArchive): Promise<void> {
    if (req.method !== "POST") throw new Refusal(405, `${LOGS_PATH} takes POST`);
    const url = new URL(req.url ?? "/", "http://x");
    const query = LogChunkQuery.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) throw new Refusal(400, `invalid query: ${describeIssues(query.error)}`);
    const record = authenticate(req, "broker");
    const { retryAfter, refused } = logChunks.take(record.id);
    if (retryAfter > 0) {
      if (refused === 1) log.warn({ thopterId: record.id }, "log chunks over the rate limit; answering 429");
      throw new Refusal(429, `too many log chunks from this thopter; retry after ${retryAfter} s`, {
        "retry-after": String(retryAfter),
      });
    }
    const body = await readBody(req, LOG_CHUNK_MAX_BYTES);
    try {
      const result = await archive.append(record.id, query.data.file, query.data.offset, body);
      if (result.capped && !result.gap) log.debug({ thopterId: record.id }, "log archive is full: chunk dropped");
      send(res, result.gap ? 409 : 200, { size: result.size, capped: result.capped });
    } catch (err) {
      if (err instanceof TooManyFiles) throw new Refusal(413, err.message);
      throw err;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url === GITHUB_TOKEN_PATH) return renewGithubToken(req, res);
    if (options.archive && req.url?.split("?")[0] === LOGS_PATH) return appendLog(req, res, options.archive);
    const endpoint = ENDPOINTS[req.url ?? ""];
    if (!endpoint) throw new Refusal(404, `no such endpoint ${req.url}: use POST /v1/status, /v1/reports or /v1/logs`);
    if (req.method !== "POST") throw new Refusal(405, `${req.url} takes POST`);
    const thopterId = authenticate(req, endpoint.role).id;
    if (endpoint.role === "status") checkRate(thopterId);
    const parsed = endpoint.schema.safeParse(await readJson(req, limit));
    if (!parsed.success) throw new Refusal(400, `invalid report: ${describeIssues(parsed.error)}`);
    const result = await (endpoint.apply as Endpoint<z.ZodType>["apply"])(registry, thopterId, parsed.data);
    const answer = { ok: true, state: result.record.state, duplicate: result.duplicate };
    // Observers learn of follow-ups from the answer: the hub never dials into a thopter.
    send(res, 200, endpoint.role === "status" ? { ...answer, followUps: pendingFollowUps(result.record) } : answer);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof Refusal) {
        const headers: Record<string, string> = { ...err.headers };
        if (err.status === 401) headers["www-authenticate"] = "Bearer";
        // After refusing a body we did not read, the connection cannot carry another request.
        if (err.status === 413 || !req.complete) headers.connection = "close";
        log.debug({ url: req.url, status: err.status, reason: err.message }, "collector refused a request");
        send(res, err.status, { error: err.message }, headers);
        return;
      }
      log.error({ err, url: req.url }, "collector could not apply a report");
      send(res, 503, { error: "the hub could not store the report; retry later" });
    });
  });
  // Observers post every few seconds over one connection: keep it open between posts.
  server.keepAliveTimeout = 65_000;
  return server;
}

/** Starts the collector on host:port (port 0 picks a free one) and resolves with its base URL. */
export function startCollector(options: CollectorOptions & { host: string; port: number }): Promise<Listening> {
  return listenOn("HUB_STATUS_PORT", createCollector(options), options.port, options.host);
}
