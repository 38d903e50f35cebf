import type { Middleware } from "openapi-fetch";
import type { Logger } from "pino";
import type { CallCounter, FlyCall } from "./call-stats.js";
import type { RateLimiter } from "./rate-limits.js";

interface Pending {
  startedAt: number;
  waitedMs: number;
}

export interface InstrumentOptions {
  limiter: RateLimiter;
  counter: CallCounter;
  log: Logger;
  /** How long a request may go unanswered once sent; a long-poll's own `timeout` query parameter is added to it. */
  requestTimeoutMs: number;
  onCall?: ((call: FlyCall) => void) | undefined;
}

/**
 * openapi-fetch middleware around every HTTP request: waits for the operation's rate limiter, then sends it with a
 * timeout that starts only now (a long wait for a token must not eat the request's time), and logs and counts the call
 * (method, path, status, ms). Only the method and URL path are logged, never headers, so the token stays out.
 */
export function instrument({ limiter, counter, log, requestTimeoutMs, onCall }: InstrumentOptions): Middleware {
  const pending = new Map<string, Pending>();

  const finish = (id: string, request: Request, schemaPath: string, status: number): FlyCall => {
    const started = pending.get(id);
    pending.delete(id);
    const call: FlyCall = {
      operation: `${request.method} ${schemaPath}`,
      method: request.method,
      path: new URL(request.url).pathname,
      status,
      ms: started ? Math.round(performance.now() - started.startedAt) : 0,
      waitedMs: started?.waitedMs ?? 0,
    };
    counter.record(call);
    onCall?.(call);
    return call;
  };

  return {
    async onRequest({ id, request, schemaPath, params }) {
      const target = params.path?.machine_id ?? params.path?.volume_id;
      const waitedMs = await limiter.take(
        `${request.method} ${schemaPath}`,
        target === undefined ? "" : String(target),
      );
      pending.set(id, { startedAt: performance.now(), waitedMs });
      const longPollMs = Number(params.query?.timeout ?? 0) * 1000;
      return new Request(request, { signal: AbortSignal.timeout(requestTimeoutMs + longPollMs) });
    },
    onResponse({ id, request, schemaPath, response }) {
      const { method, path, status, ms, waitedMs } = finish(id, request, schemaPath, response.status);
      log[status >= 400 ? "warn" : "info"]({ method, path, status, ms, waitedMs }, "fly call");
    },
    onError({ id, request, schemaPath, error }) {
      const { method, path, ms, waitedMs } = finish(id, request, schemaPath, 0);
      log.warn({ method, path, status: 0, ms, waitedMs, err: String(error) }, "fly call failed without a response");
    },
  };
}
