/** A Fly API call that failed for good (after any retries). Never carries the token. */
export class FlyApiError extends Error {
  override readonly name = "FlyApiError";

  constructor(
    /** `METHOD /path` of the call, e.g. `POST /v1/apps/thopters/machines`. */
    readonly call: string,
    /** HTTP status, or `undefined` when no response arrived (network error). */
    readonly status: number | undefined,
    /** Fly's own error text, when it sent one. */
    readonly flyError: string | undefined,
    options?: ErrorOptions,
  ) {
    super(
      `Fly API ${call} failed: ${status === undefined ? "no response" : `HTTP ${status}`}${flyError ? `: ${flyError}` : ""}`,
      options,
    );
  }
}

/** True when `GET …/wait` gave up because the machine did not reach the state in time (HTTP 408). */
export function isWaitTimeout(error: unknown): error is FlyApiError {
  return error instanceof FlyApiError && error.status === 408;
}

/** Fly's error bodies are `{ "error": "…" }`; anything else is reported as-is, shortened. */
export function flyErrorText(body: unknown): string | undefined {
  if (body === undefined || body === null || body === "") return undefined;
  if (typeof body === "object" && "error" in body && typeof body.error === "string") return body.error;
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
