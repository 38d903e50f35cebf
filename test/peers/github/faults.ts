import { errorBody, REST_DOCS, SECONDARY_LIMIT_DOCS } from "./errors.js";

/**
 * Faults a test asks for: the next matching requests are answered with a server error or a secondary rate limit
 * (403 or 429 with GitHub's message and `retry-after`), after authentication and before the request reaches its
 * route. Git requests (`/git/…`) are faulted only by a fault whose `match.path` matches them.
 */

export interface FaultSpec {
  status: 500 | 502 | 403 | 429;
  /** How many matching requests get the fault (default 1). */
  times?: number;
  /** Seconds for `retry-after` on 403/429 (default 1). */
  retryAfter?: number;
  /** Which requests: HTTP method, and a RegExp tested against the URL path (without the query). */
  match?: { method?: string; path?: RegExp };
}

export interface FaultAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class Faults {
  private readonly pending: (FaultSpec & { left: number })[] = [];

  add(spec: FaultSpec): void {
    if (![500, 502, 403, 429].includes(spec.status)) {
      throw new Error(`GitHub peer: inject() supports status 500, 502, 403 or 429, not ${spec.status}`);
    }
    const left = spec.times ?? 1;
    if (!Number.isInteger(left) || left < 1) throw new Error("GitHub peer: inject() times must be a positive integer");
    this.pending.push({ ...spec, left });
  }

  /** Faults not yet used up (so a test can check its faults were all hit). */
  remaining(): number {
    return this.pending.reduce((sum, fault) => sum + fault.left, 0);
  }

  /** The answer for this request if a fault matches it (using one of its `times`). */
  take(method: string, path: string, requestId: string): FaultAnswer | undefined {
    const git = path.startsWith("/git/");
    const fault = this.pending.find(
      (f) =>
        f.left > 0 &&
        (!git || f.match?.path) &&
        (!f.match?.method || f.match.method.toUpperCase() === method) &&
        (!f.match?.path || f.match.path.test(path)),
    );
    if (!fault) return undefined;
    fault.left -= 1;
    if (fault.status === 500 || fault.status === 502) {
      const message = fault.status === 500 ? "Server Error" : "Bad Gateway";
      return {
        status: fault.status,
        headers: { "content-type": "application/json; charset=utf-8" },
        body: JSON.stringify(errorBody(fault.status, message, REST_DOCS)),
      };
    }
    const message =
      "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
      `If you reach out to GitHub Support for help, please include the request ID ${requestId}.`;
    return {
      status: fault.status,
      headers: { "content-type": "application/json; charset=utf-8", "retry-after": String(fault.retryAfter ?? 1) },
      body: JSON.stringify(errorBody(fault.status, message, SECONDARY_LIMIT_DOCS)),
    };
  }
}
