import { createServer, Agent as HttpAgent, type IncomingMessage, request, type ServerResponse } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { type Listening, listenHttp } from "@thopter/protocol/listen";
import type { Logger } from "pino";
import { peerUid } from "../peer-uid.js";
import { BUDGET_STATUS, type Budget, budgetErrorBody } from "./budget.js";
import type { ModelProxyConfig } from "./config.js";
import { carriesPlaceholder, upstreamHeaders } from "./credential.js";
import { UsageMeter } from "./usage-meter.js";
import type { UsageReporter } from "./usage-reporter.js";
import type { UsageStore } from "./usage-store.js";

export interface ProxyParts {
  config: ModelProxyConfig;
  store: UsageStore;
  reporter: UsageReporter;
  budget: Budget;
  log: Logger;
}

/** Response headers that belong to one connection, not to the message. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "proxy-connection", "trailer", "upgrade"]);

function apiError(res: ServerResponse, status: number, type: string, message: string): void {
  res.req.resume(); // a refused request's body is read and dropped, so the connection stays usable
  res.writeHead(status, { "content-type": "application/json", "x-should-retry": "false" });
  res.end(JSON.stringify({ type: "error", error: { type, message } }));
}

/**
 * What the proxy forwards: the Messages API (whose usage it counts), token counting, model listing and the
 * connectivity checks. Anything else (batches, files, admin) would spend the credential where no budget sees it.
 */
function forwardable(method: string | undefined, pathname: string): boolean {
  if (method === "POST") return pathname === "/v1/messages" || pathname === "/v1/messages/count_tokens";
  if (method === "GET" || method === "HEAD") {
    return pathname === "/" || pathname === "/api/hello" || /^\/v1\/models(\/[\w.-]+)?$/.test(pathname);
  }
  return false;
}

/** The upstream URL of a request: the endpoint's path (a gateway may have one) followed by the request's. */
function target(base: URL, path: string): URL {
  const url = new URL(base);
  url.pathname = `${base.pathname.replace(/\/$/, "")}${path.split("?")[0]}`;
  url.search = path.includes("?") ? path.slice(path.indexOf("?")) : "";
  return url;
}

/**
 * The model proxy's HTTP server, on 127.0.0.1: serves only the agent's uid (and its own), only with the placeholder;
 * forwards each request with the real credential to the endpoint and pipes the answer back unchanged (chunks are
 * written as they arrive, never collected), counting usage from Messages responses on the way. Once the budget is
 * spent, new Messages requests get a billing error instead.
 */
export function listenModelProxy(parts: ProxyParts): Promise<Listening> {
  const { config, store, reporter, budget, log } = parts;
  const base = new URL(config.credential.baseUrl ?? "https://api.anthropic.com");
  const secure = base.protocol === "https:";
  const agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = secure ? httpsRequest : request;
  const callers = new Set([config.agent.uid, process.getuid?.() ?? -1]);
  // Who is at the other end is asked of the kernel once per connection (keep-alive reuses it).
  const uids = new WeakMap<Socket, Promise<number | undefined>>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const uid = await uids.get(req.socket);
    if (uid === undefined || !callers.has(uid) || !carriesPlaceholder(req.headers, config.placeholder)) {
      log.warn({ method: req.method, uid }, "model request without this thopter's placeholder, or not from its agent");
      return apiError(res, 401, "authentication_error", "This model proxy serves only its own thopter's Claude.");
    }
    const path = req.url ?? "/";
    if (!path.startsWith("/")) return apiError(res, 400, "invalid_request_error", "Only origin-form request paths.");
    const pathname = path.split("?")[0]!;
    if (!forwardable(req.method, pathname)) {
      log.warn(
        { method: req.method, path: pathname.slice(0, 200) },
        "model request for an endpoint the proxy does not forward",
      );
      return apiError(
        res,
        404,
        "not_found_error",
        `The model proxy forwards only the Messages API, not ${req.method} ${pathname.slice(0, 200)}.`,
      );
    }
    const messages = req.method === "POST" && pathname === "/v1/messages";
    if (messages && budget.exhausted(store.models)) {
      const message = budget.message(store.models);
      log.info({ spentUsd: budget.spent(store.models).usd }, "model request refused: the budget is spent");
      reporter.blocked(message);
      req.resume();
      res.writeHead(BUDGET_STATUS, { "content-type": "application/json", "x-should-retry": "false" });
      return void res.end(budgetErrorBody(message));
    }
    const started = performance.now();
    const upstream = send(target(base, path), {
      method: req.method,
      headers: upstreamHeaders(req.headers, config.credential),
      agent,
    });
    upstream.setNoDelay(true);
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.on("error", (err) => {
      log.warn({ err: err.message, path: pathname }, "model endpoint unreachable");
      if (!res.headersSent) apiError(res, 502, "api_error", `The model proxy could not reach ${base.origin}.`);
      else res.destroy();
    });
    upstream.on("response", (answer) => {
      const headers = Object.fromEntries(Object.entries(answer.headers).filter(([k]) => !HOP_BY_HOP.has(k)));
      res.writeHead(answer.statusCode ?? 502, headers);
      res.flushHeaders();
      const type = String(answer.headers["content-type"] ?? "");
      const meter =
        messages && answer.statusCode === 200 ? new UsageMeter(type.startsWith("text/event-stream")) : undefined;
      if (meter) answer.on("data", (chunk: Buffer) => meter.push(chunk));
      // Counted once the answer is out: the durable write must not hold back its last bytes.
      res.on("finish", () => {
        const usage = meter?.result();
        log.info(
          { status: answer.statusCode, model: usage?.model, ms: Math.round(performance.now() - started) },
          "model request",
        );
        if (!usage) return;
        store.add(usage);
        reporter.counted();
        if (budget.exhausted(store.models)) reporter.blocked(budget.message(store.models));
      });
      answer.on("error", () => res.destroy());
      answer.pipe(res);
    });
    req.pipe(upstream);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      log.error({ err: err.message }, "model proxy request failed");
      if (!res.headersSent) apiError(res, 500, "api_error", "The model proxy failed on this request.");
    });
  });
  server.on("connection", (socket: Socket) => uids.set(socket, peerUid(socket)));
  return listenHttp(server, config.port, "127.0.0.1");
}
