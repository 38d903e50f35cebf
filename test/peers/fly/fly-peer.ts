import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Machine, Volume } from "@thopter/fly";
import { type ContainerOptions, Fleet, type RunOptions } from "./fleet.js";
import { type HandlerInput, handlers, type PeerResponse } from "./handlers.js";
import { type OpenApiDocument, OpenApiValidator, type Route } from "./openapi-validator.js";
import { PeerError } from "./peer-error.js";
import { type PeerRateLimit, PeerRateLimiter } from "./rate-limit.js";

export type { ContainerOptions, RunOptions } from "./fleet.js";

/** The vendored description every request and response is checked against. */
export const FLY_SPEC_PATH = join(import.meta.dirname, "../../fixtures/fly/fly-machines-openapi.json");

export interface FlyPeerOptions {
  /** The bearer token requests must carry; a random one by default. */
  token?: string;
  /** The one app the peer hosts; other app names get 404. */
  app?: string;
  region?: string;
  /** Duration of each automatic state step, default 30 ms. */
  transitionMs?: number;
  /** `private_ip` of started machines, default 127.0.0.1. */
  privateIp?: string;
  /** Run started machines as local processes (see RunOptions). */
  run?: RunOptions;
  /** Or run them as containers of their `config.image` on a container engine (see ContainerOptions). */
  containers?: ContainerOptions;
  /**
   * Refuse requests beyond this rate with 429 and a `retry-after` (in fractional seconds, so fast test limits stay
   * fast), per operation and machine, as Fly does. Off by default.
   */
  rateLimit?: PeerRateLimit;
}

/** A failure the peer answers with instead of (or, with `after`, in place of the result of) the real operation. */
export interface Injection {
  /** The status to answer with; required unless `drop`. */
  status?: number;
  /** Close the connection without answering, as a network failure or a crashed proxy would. */
  drop?: boolean;
  /** Hold the request this long first (alone: a slow but otherwise normal answer). */
  delayMs?: number;
  /** How many matching requests get it, default 1. */
  times?: number;
  /** operationId (`Machines_create`) or `METHOD /template`; every operation when absent. */
  match?: string;
  /** Default `{ "error": "injected <status>" }` for errors, nothing otherwise. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Perform the operation first, then answer with the failure: the "it happened but the response was lost" case. */
  after?: boolean;
}

/** A request or response that does not conform to the vendored description. */
export interface Violation {
  operation: string;
  direction: "request" | "response";
  status?: number;
  problems: string[];
}

export interface PeerStats {
  total: number;
  /** Requests per operationId, whatever their outcome. */
  byOperation: Record<string, number>;
  /** Responses per HTTP status. */
  byStatus: Record<string, number>;
}

/**
 * An offline Fly Machines API: the subset Thopter Swarm uses, served on 127.0.0.1 with Bearer auth, every request and
 * response validated against the vendored OpenAPI description, Fly's state machine driven by timers, failures injected
 * on demand, and (with `run`) started machines run as local processes.
 */
export class FlyPeer {
  readonly violations: Violation[] = [];
  private readonly injections: (Injection & { left: number })[] = [];
  private readonly counts: PeerStats = { total: 0, byOperation: {}, byStatus: {} };

  private constructor(
    private readonly server: Server,
    private readonly fleet: Fleet,
    private readonly validator: OpenApiValidator,
    private readonly limiter: PeerRateLimiter | undefined,
    readonly token: string,
    readonly app: string,
  ) {}

  static async start(options: FlyPeerOptions = {}): Promise<FlyPeer> {
    const app = options.app ?? "thopters";
    const fleet = new Fleet({
      app,
      region: options.region ?? "iad",
      transitionMs: options.transitionMs ?? 30,
      privateIp: options.privateIp ?? "127.0.0.1",
      ...(options.run ? { run: options.run } : {}),
      ...(options.containers ? { containers: { ...options.containers, peerId: crypto.randomUUID() } } : {}),
    });
    const validator = new OpenApiValidator(JSON.parse(readFileSync(FLY_SPEC_PATH, "utf8")) as OpenApiDocument, {
      // Documented on fly.io's Machines resource page but missing from the description: filter by metadata key.
      Machines_list: ["metadata."],
    });
    const token = options.token ?? `fly-peer-${crypto.randomUUID()}`;
    const server = createServer();
    const limiter = options.rateLimit && new PeerRateLimiter(options.rateLimit);
    const peer = new FlyPeer(server, fleet, validator, limiter, token, app);
    server.on("request", (req, res) => void peer.serve(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return peer;
  }

  /** The `FLY_API_URL` to give a client (the peer serves the API under `/v1`). */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  inject(injection: Injection): void {
    if (injection.status === undefined && !injection.drop && injection.delayMs === undefined) {
      throw new Error("inject needs a status, drop: true or a delayMs");
    }
    this.injections.push({ ...injection, left: injection.times ?? 1 });
  }

  stats(): PeerStats {
    return structuredClone(this.counts);
  }

  /** Every machine, destroyed ones included, as the API would show it. */
  machines(): Machine[] {
    return structuredClone(this.fleet.listMachines(true));
  }

  volumes(): Volume[] {
    return structuredClone(this.fleet.volumes.list());
  }

  /** A volume's local directory (with `run` only): what machines mounting it see at the mount path. */
  volumeDir(volumeId: string): string {
    if (!this.fleet.volumeDirs) throw new Error("volumes have directories only when the peer runs machines (`run`)");
    return this.fleet.volumeDirs.dir(volumeId);
  }

  /** What a machine's container printed so far (with `containers` only), for a failing test's message. */
  console(machineId: string): Promise<string> {
    return this.fleet.console(machineId);
  }

  /** With `containers`: this peer's containers and volumes still on the engine; after `close()`, none. */
  leftovers(): Promise<string[]> {
    return this.fleet.leftovers();
  }

  /** Throws, listing them, if any request or response broke the description (for `afterEach`). */
  assertClean(): void {
    if (this.violations.length === 0) return;
    const lines = this.violations.map(
      (v) => `${v.direction} ${v.operation}${v.status ? ` (${v.status})` : ""}: ${v.problems.join("; ")}`,
    );
    throw new Error(`Fly peer saw ${this.violations.length} OpenAPI violation(s):\n${lines.join("\n")}`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.fleet.close();
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://peer");
    const method = req.method ?? "GET";
    const route = url.pathname.startsWith("/v1/") ? this.validator.match(method, url.pathname.slice(3)) : undefined;
    if (!route) {
      // A client that calls a route Fly does not have would read this 404 as "gone": that is a bug to report.
      const problem = `${method} ${url.pathname} is not an operation of the Machines API description`;
      this.violations.push({ operation: `${method} ${url.pathname}`, direction: "request", problems: [problem] });
      return send(res, { status: 404, body: { error: `no such endpoint: ${method} ${url.pathname}` } });
    }
    const operation = route.operation.operationId;
    this.counts.total += 1;
    this.counts.byOperation[operation] = (this.counts.byOperation[operation] ?? 0) + 1;
    const response = await this.respond(route, req, url.searchParams);
    if (response === "drop") return void res.socket?.destroy();
    const problems = this.validator.validateResponse(route, response.status, response.body);
    if (problems.length) this.violations.push({ operation, direction: "response", status: response.status, problems });
    this.counts.byStatus[response.status] = (this.counts.byStatus[response.status] ?? 0) + 1;
    send(res, response);
  }

  private async respond(route: Route, req: IncomingMessage, query: URLSearchParams): Promise<PeerResponse | "drop"> {
    const operation = route.operation.operationId;
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return { status: 401, body: { error: "You must be authenticated to view this." } };
    }
    let body: unknown;
    try {
      body = await readJson(req);
    } catch {
      this.violations.push({ operation, direction: "request", problems: ["request body is not JSON"] });
      return { status: 400, body: { error: "request body is not valid JSON" } };
    }
    const problems = this.validator.validateRequest(route, query, body);
    if (problems.length) {
      this.violations.push({ operation, direction: "request", problems });
      return { status: 400, body: { error: `invalid request: ${problems.join("; ")}` } };
    }
    const target = route.pathParams.machine_id ?? route.pathParams.volume_id ?? "";
    const waitSeconds = this.limiter?.refuse(`${route.method} ${route.template} ${target}`);
    if (waitSeconds !== undefined) {
      return {
        status: 429,
        body: { error: "rate limit exceeded" },
        headers: { "retry-after": waitSeconds.toFixed(3) },
      };
    }
    const injection = this.takeInjection(route);
    if (injection?.delayMs) await sleep(injection.delayMs);
    const failure = injection && (injection.status !== undefined || injection.drop) ? injection : undefined;
    if (failure && !failure.after) return injected(failure);
    const result = await this.perform(route, { path: route.pathParams, query, body });
    return failure ? injected(failure) : result;
  }

  private async perform(route: Route, input: HandlerInput): Promise<PeerResponse> {
    const operation = route.operation.operationId;
    const handler = handlers[operation];
    if (!handler) return { status: 501, body: { error: `the Fly peer does not implement ${operation}` } };
    if (input.path.app_name !== this.app)
      return { status: 404, body: { error: `app ${input.path.app_name} not found` } };
    try {
      return await handler(this.fleet, input);
    } catch (error) {
      if (error instanceof PeerError) return { status: error.status, body: { error: error.message } };
      return { status: 500, body: { error: `peer bug: ${String(error)}` } };
    }
  }

  private takeInjection(route: Route): Injection | undefined {
    const keys = [route.operation.operationId, `${route.method} ${route.template}`];
    const found = this.injections.find((i) => i.left > 0 && (i.match === undefined || keys.includes(i.match)));
    if (found) found.left -= 1;
    return found;
  }
}

function injected(injection: Injection): PeerResponse | "drop" {
  const status = injection.status;
  if (injection.drop || status === undefined) return "drop";
  const body = injection.body ?? (status >= 400 ? { error: `injected ${status}` } : undefined);
  return { status, body, ...(injection.headers ? { headers: injection.headers } : {}) };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text.trim() === "" ? undefined : JSON.parse(text);
}

function send(res: ServerResponse, response: PeerResponse): void {
  const hasBody = response.body !== undefined && response.status !== 204;
  res.writeHead(response.status, {
    ...(hasBody ? { "content-type": "application/json" } : {}),
    ...response.headers,
  });
  res.end(hasBody ? JSON.stringify(response.body) : undefined);
}
