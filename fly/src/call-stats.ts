import type { OperationKey } from "./rate-limits.js";

/** One HTTP request the client made (each retry is its own call). */
export interface FlyCall {
  operation: OperationKey;
  method: string;
  path: string;
  /** HTTP status; 0 when the request failed without a response. */
  status: number;
  ms: number;
  /** Time spent waiting for the client-side rate limiter before sending. */
  waitedMs: number;
}

export interface FlyCallStats {
  /** HTTP requests sent, retries included: what "Fly calls per thopter" counts. */
  calls: number;
  byOperation: Record<OperationKey, number>;
  byStatus: Record<string, number>;
  /** Attempts repeated after a 429, 5xx or network error. */
  retries: number;
  /** Calls that had to wait for the rate limiter. */
  throttled: number;
}

/** Counters behind `FlyMachinesClient.stats()`. */
export class CallCounter {
  private readonly counts: FlyCallStats = { calls: 0, byOperation: {}, byStatus: {}, retries: 0, throttled: 0 };

  record(call: FlyCall): void {
    this.counts.calls += 1;
    this.counts.byOperation[call.operation] = (this.counts.byOperation[call.operation] ?? 0) + 1;
    this.counts.byStatus[call.status] = (this.counts.byStatus[call.status] ?? 0) + 1;
    if (call.waitedMs > 0) this.counts.throttled += 1;
  }

  retried(): void {
    this.counts.retries += 1;
  }

  /** A copy, so callers can diff two snapshots. */
  snapshot(): FlyCallStats {
    return structuredClone(this.counts);
  }
}
