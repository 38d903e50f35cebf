import createClient, { type Client } from "openapi-fetch";
import type { Logger } from "pino";
import { CallCounter } from "../call-stats.js";
import { DEFAULT_FLY_API_URL } from "../config.js";
import { FlyApiError, flyErrorText } from "../errors.js";
import type { paths } from "../generated/machines-api.js";
import { instrument } from "../instrument.js";
import { RateLimiter } from "../rate-limits.js";

export interface ExecResult {
  exitCode: number;
  stdout: string;
}

/**
 * `POST …/machines/{id}/exec`, which FlyMachinesClient does not offer: runs one command in a running machine. Same
 * rate limiting and logging as the client (its middleware); never retried, since a command may not be repeatable.
 */
export class MachineExec {
  private readonly api: Client<paths>;

  constructor(
    private readonly options: {
      app: string;
      token: string;
      apiUrl?: string;
      logger: Logger;
      fetch?: (request: Request) => Promise<Response>;
    },
  ) {
    const apiUrl = (options.apiUrl ?? DEFAULT_FLY_API_URL).replace(/\/+$/, "").replace(/\/v1$/, "");
    this.api = createClient<paths>({
      baseUrl: `${apiUrl}/v1`,
      headers: { Authorization: `Bearer ${options.token}` },
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.api.use(
      instrument({
        limiter: new RateLimiter(),
        counter: new CallCounter(),
        log: options.logger.child({ component: "fly-exec" }),
        requestTimeoutMs: 30_000,
      }),
    );
  }

  async run(machineId: string, command: string[], timeoutSeconds = 10): Promise<ExecResult> {
    const call = `POST /apps/${this.options.app}/machines/${machineId}/exec`;
    const { data, error, response } = await this.api.POST("/apps/{app_name}/machines/{machine_id}/exec", {
      params: { path: { app_name: this.options.app, machine_id: machineId } },
      body: { command, timeout: timeoutSeconds },
    });
    if (!response.ok || !data) throw new FlyApiError(call, response.status, flyErrorText(error));
    return { exitCode: data.exit_code ?? 0, stdout: data.stdout ?? "" };
  }
}
