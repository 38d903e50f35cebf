import createClient, { type Client } from "openapi-fetch";
import { type Logger, pino } from "pino";
import { type ApiResult, type CallPlan, runCall } from "./call-plan.js";
import { CallCounter, type FlyCall, type FlyCallStats } from "./call-stats.js";
import { DEFAULT_FLY_API_URL } from "./config.js";
import type { paths } from "./generated/machines-api.js";
import { instrument } from "./instrument.js";
import { type OperationKey, RateLimiter } from "./rate-limits.js";
import { DEFAULT_RATE_LIMIT_DEADLINE_MS, DEFAULT_RETRY, type RetryPolicy } from "./retry.js";
import type { Rate } from "./token-bucket.js";
import type {
  CreateMachineRequest,
  CreateVolumeRequest,
  Machine,
  StopRequest,
  Volume,
  WaitMachineResponse,
  WaitState,
} from "./types.js";

export interface FlyMachinesClientOptions {
  /** Fly app the machines and volumes belong to (`APP_NAME`). */
  app: string;
  /** Bearer token (`FLY_API_TOKEN`). Sent only in the Authorization header; never logged. */
  token: string;
  /** API host (`FLY_API_URL`), default https://api.machines.dev; paths go under `/v1`. */
  apiUrl?: string;
  logger?: Logger;
  /** Per-operation limits (`METHOD /schema/path` or `default`) replacing Fly's published ones; tests speed them up. */
  rateLimits?: Partial<Record<OperationKey, Rate>>;
  retry?: Partial<RetryPolicy>;
  /**
   * How long one operation waits out Fly's 429s (default 5 min): they do not count against `retry.attempts`, as Fly
   * did nothing; each waits `retry-after` (or a backoff), and every repeat still goes through the token bucket.
   */
  rateLimitDeadlineMs?: number;
  /** Abort a request unanswered this long after it was sent (default 60 s; a wait call gets its own timeout on top). */
  requestTimeoutMs?: number;
  /** Called after every HTTP request, retries included (benchmarks count "Fly calls per thopter" with it). */
  onCall?: (call: FlyCall) => void;
  fetch?: (request: Request) => Promise<Response>;
}

/** Filters for `listMachines`. */
export interface MachineFilter {
  /** Only machines whose metadata has all these key/values (sent as `metadata.KEY=VALUE` and checked here too). */
  metadata?: Record<string, string>;
  /** Only machines in these states (created, started, stopped, suspended). */
  states?: string[];
  includeDeleted?: boolean;
}

const GONE_STATES = new Set(["destroying", "destroyed", "pending_destroy"]);
const MAX_WAIT_SECONDS = 60;

/**
 * Typed client for the Fly Machines API: rate-limited per operation the way Fly limits it, retries that never
 * duplicate a machine or volume, and a count of every call.
 */
export class FlyMachinesClient {
  readonly app: string;
  private readonly api: Client<paths>;
  private readonly counter = new CallCounter();
  private readonly retry: RetryPolicy;
  private readonly rateLimitDeadlineMs: number;

  constructor(options: FlyMachinesClientOptions) {
    if (!options.token) throw new Error("Fly client needs a token: set FLY_API_TOKEN");
    if (!options.app) throw new Error("Fly client needs an app name: set APP_NAME");
    this.app = options.app;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.rateLimitDeadlineMs = options.rateLimitDeadlineMs ?? DEFAULT_RATE_LIMIT_DEADLINE_MS;
    // FLY_API_URL is the host; a copied `…/v1` would otherwise become `/v1/v1`.
    const apiUrl = (options.apiUrl ?? DEFAULT_FLY_API_URL).replace(/\/+$/, "").replace(/\/v1$/, "");
    this.api = createClient<paths>({
      baseUrl: `${apiUrl}/v1`,
      headers: { Authorization: `Bearer ${options.token}` },
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const log = (options.logger ?? pino({ name: "fly" })).child({ component: "fly-api", app: this.app });
    this.api.use(
      instrument({
        limiter: new RateLimiter(options.rateLimits),
        counter: this.counter,
        log,
        requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
        onCall: options.onCall,
      }),
    );
  }

  /** Calls made so far (a copy). */
  stats(): FlyCallStats {
    return this.counter.snapshot();
  }

  /**
   * Creates a machine. `name` is required and must be unique in the app: it makes the call idempotent. When an
   * attempt fails with a 5xx, loses its response, or the name is taken, the machine with that name is looked up and
   * returned instead of creating a second one.
   */
  async createMachine(request: CreateMachineRequest & { name: string }): Promise<Machine> {
    if (!request.name) throw new Error("createMachine needs a unique `name` (e.g. the thopter id) so retries are safe");
    return this.call(
      {
        call: `POST /apps/${this.app}/machines`,
        recover: async () => (await this.listMachines()).find((machine) => machine.name === request.name),
      },
      () =>
        this.api.POST("/apps/{app_name}/machines", {
          params: { path: { app_name: this.app } },
          body: request,
        }),
    );
  }

  getMachine(machineId: string): Promise<Machine> {
    return this.call({ call: `GET /apps/${this.app}/machines/${machineId}` }, () =>
      this.api.GET("/apps/{app_name}/machines/{machine_id}", {
        params: { path: { app_name: this.app, machine_id: machineId } },
      }),
    );
  }

  /** Lists the app's machines; `filter.metadata` finds the hub's own machines (e.g. `{ thopter: "1" }`). */
  async listMachines(filter: MachineFilter = {}): Promise<Machine[]> {
    const metadataQuery = Object.fromEntries(
      Object.entries(filter.metadata ?? {}).map(([key, value]) => [`metadata.${key}`, value]),
    );
    const machines = await this.call({ call: `GET /apps/${this.app}/machines` }, () =>
      this.api.GET("/apps/{app_name}/machines", {
        params: {
          path: { app_name: this.app },
          query: {
            ...(filter.states ? { state: filter.states.join(",") } : {}),
            ...(filter.includeDeleted ? { include_deleted: true } : {}),
            // Fly filters on `metadata.KEY`; the OpenAPI description does not list it, hence the widening.
            ...(metadataQuery as Record<string, never>),
          },
        },
      }),
    );
    // Checked here as well, so a server that ignores the metadata filter cannot hand us someone else's machines.
    return machines.filter((machine) =>
      Object.entries(filter.metadata ?? {}).every(([key, value]) => machine.config?.metadata?.[key] === value),
    );
  }

  /**
   * Blocks until the machine reaches `state` (default `started`), at most `timeoutSeconds` (1–60). Throws a
   * `FlyApiError` with status 408 when it does not get there in time (see `isWaitTimeout`).
   *
   * Fly refuses to wait for `stopped` without the machine version (`instance_id`) it should stop in; give it as
   * `version` when you have it (e.g. from createMachine's result), otherwise it is read first with one getMachine call.
   */
  async waitForState(
    machineId: string,
    state: WaitState = "started",
    timeoutSeconds = MAX_WAIT_SECONDS,
    { version }: { version?: string } = {},
  ): Promise<WaitMachineResponse> {
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > MAX_WAIT_SECONDS) {
      throw new Error(`waitForState timeoutSeconds must be a whole number from 1 to 60, got ${timeoutSeconds}`);
    }
    const instance = version ?? (state === "stopped" ? (await this.getMachine(machineId)).instance_id : undefined);
    // `version` is the current name; `instance_id` the deprecated one older API versions insist on. Both are accepted.
    const versionQuery = instance ? { version: instance, instance_id: instance } : {};
    return this.call({ call: `GET /apps/${this.app}/machines/${machineId}/wait` }, () =>
      this.api.GET("/apps/{app_name}/machines/{machine_id}/wait", {
        params: {
          path: { app_name: this.app, machine_id: machineId },
          query: { state, timeout: timeoutSeconds, ...versionQuery },
        },
      }),
    );
  }

  /** Stops a machine (SIGTERM unless `request.signal` says otherwise). Stopping a stopped machine is harmless. */
  async stopMachine(machineId: string, request: StopRequest = {}): Promise<void> {
    await this.call({ call: `POST /apps/${this.app}/machines/${machineId}/stop` }, () =>
      this.api.POST("/apps/{app_name}/machines/{machine_id}/stop", {
        params: { path: { app_name: this.app, machine_id: machineId } },
        body: request,
        parseAs: "text",
      }),
    );
  }

  /** Destroys a machine; `force` (default true) kills it first if it is running. A retry that finds it gone is fine. */
  async destroyMachine(machineId: string, { force = true }: { force?: boolean } = {}): Promise<void> {
    await this.call({ call: `DELETE /apps/${this.app}/machines/${machineId}`, doneOnRetry: 404 }, () =>
      this.api.DELETE("/apps/{app_name}/machines/{machine_id}", {
        params: { path: { app_name: this.app, machine_id: machineId }, query: { force } },
        parseAs: "text",
      }),
    );
  }

  /**
   * Creates a volume. `name` (lowercase letters, digits and `_`, under 30 characters) must be unique among the app's
   * live volumes: like machines, a failed attempt is resolved by looking the name up, never by creating a second one.
   */
  async createVolume(request: CreateVolumeRequest & { name: string }): Promise<Volume> {
    if (!request.name) throw new Error("createVolume needs a unique `name` so retries are safe");
    return this.call(
      {
        call: `POST /apps/${this.app}/volumes`,
        recover: async () =>
          (await this.listVolumes()).find(
            (volume) => volume.name === request.name && !GONE_STATES.has(volume.state ?? ""),
          ),
      },
      () =>
        this.api.POST("/apps/{app_name}/volumes", {
          params: { path: { app_name: this.app } },
          body: request,
        }),
    );
  }

  listVolumes(): Promise<Volume[]> {
    return this.call({ call: `GET /apps/${this.app}/volumes` }, () =>
      this.api.GET("/apps/{app_name}/volumes", { params: { path: { app_name: this.app } } }),
    );
  }

  async deleteVolume(volumeId: string): Promise<void> {
    await this.call({ call: `DELETE /apps/${this.app}/volumes/${volumeId}`, doneOnRetry: 404 }, () =>
      this.api.DELETE("/apps/{app_name}/volumes/{volume_id}", {
        params: { path: { app_name: this.app, volume_id: volumeId } },
        parseAs: "text",
      }),
    );
  }

  getMetadata(machineId: string): Promise<Record<string, string>> {
    return this.call({ call: `GET /apps/${this.app}/machines/${machineId}/metadata` }, () =>
      this.api.GET("/apps/{app_name}/machines/{machine_id}/metadata", {
        params: { path: { app_name: this.app, machine_id: machineId } },
      }),
    );
  }

  async setMetadata(machineId: string, key: string, value: string): Promise<void> {
    await this.call({ call: `POST /apps/${this.app}/machines/${machineId}/metadata/${key}` }, () =>
      this.api.POST("/apps/{app_name}/machines/{machine_id}/metadata/{key}", {
        params: { path: { app_name: this.app, machine_id: machineId, key } },
        body: { value },
        parseAs: "text",
      }),
    );
  }

  async deleteMetadata(machineId: string, key: string): Promise<void> {
    await this.call({ call: `DELETE /apps/${this.app}/machines/${machineId}/metadata/${key}`, doneOnRetry: 404 }, () =>
      this.api.DELETE("/apps/{app_name}/machines/{machine_id}/metadata/{key}", {
        params: { path: { app_name: this.app, machine_id: machineId, key } },
        parseAs: "text",
      }),
    );
  }

  private call<T>(plan: CallPlan<T>, send: () => Promise<ApiResult<T>>): Promise<T> {
    return runCall(plan, send, this.retry, this.counter, this.rateLimitDeadlineMs);
  }
}
