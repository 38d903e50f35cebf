import type { Grant } from "./auth.js";

/**
 * GitHub's JSON error answers: `message`, `documentation_url` (the operation's docs page when known) and `status`
 * as a string, plus `errors` for 422 Validation Failed — the shape Octokit turns into a RequestError.
 */

export const REST_DOCS = "https://docs.github.com/rest";
export const SECONDARY_LIMIT_DOCS =
  "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits";
export const PRIMARY_LIMIT_DOCS =
  "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-primary-rate-limits";

export interface ValidationDetail {
  resource: string;
  code: string;
  field?: string;
  message?: string;
}

/** Thrown by route handlers; the server turns it into GitHub's error body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: ValidationDetail[],
    readonly documentationUrl?: string,
  ) {
    super(message);
  }
}

export const notFound = () => new HttpError(404, "Not Found");
/** 403 for a token without the permission: GitHub names the kind of token. */
export const forbiddenFor = (grant: Grant) =>
  new HttpError(
    403,
    `Resource not accessible by ${grant.installationId === undefined ? "personal access token" : "integration"}`,
  );
export const validationFailed = (...errors: ValidationDetail[]) => new HttpError(422, "Validation Failed", errors);

export function errorBody(status: number, message: string, documentationUrl: string, errors?: ValidationDetail[]) {
  return { message, ...(errors ? { errors } : {}), documentation_url: documentationUrl, status: String(status) };
}
