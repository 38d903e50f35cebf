import { REDACTED, redactSecrets } from "@thopter/protocol";
import { type DestinationStream, type Level, type Logger, pino, stdSerializers } from "pino";

export { REDACTED, redactSecrets };

/**
 * Fields that hold credentials wherever they appear in a logged object (Octokit requests and errors, HTTP
 * requests, our own config). Cheap structural removal; the line-level scrub below catches everything else.
 */
const REDACT_PATHS = [
  "authorization",
  "headers.authorization",
  "headers.cookie",
  "*.headers.authorization",
  '*.headers["Authorization"]',
  "*.headers.cookie",
  "*.*.headers.authorization",
  "err.request.headers.authorization",
  "error.request.headers.authorization",
  "token",
  "*.token",
  "issuesToken",
  "coderToken",
  "*.issuesToken",
  "*.coderToken",
  "secret",
  "*.secret",
  "password",
  "*.password",
];

export interface LoggerOptions {
  level?: Level | "silent";
  /**
   * Secret values to scrub from every line (see `configSecrets`). Read on every line, so values added to a Set
   * later (tokens minted at runtime) are scrubbed from then on.
   */
  secrets?: ReadonlySet<string> | readonly string[];
  /** Where lines go; stdout by default. Tests pass a stream to read what was written. */
  destination?: DestinationStream;
}

/** A secret as it appears inside a JSON string (quotes, backslashes and control characters escaped). */
function jsonEscaped(secret: string): string {
  return JSON.stringify(secret).slice(1, -1);
}

/**
 * Removes every known secret and every well-known token shape from a serialized log line. Works on the final
 * JSON text, so messages, nested objects and error stacks are all covered.
 */
function scrubLine(line: string, secrets: ReadonlySet<string> | readonly string[]): string {
  const values: string[] = [];
  for (const s of secrets) {
    values.push(s);
    const escaped = jsonEscaped(s);
    if (escaped !== s) values.push(escaped);
  }
  return redactSecrets(line, values);
}

/** The hub's pino logger: JSON lines, credential fields redacted, secret values scrubbed from every line. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = options.secrets ?? [];
  return pino(
    {
      level: options.level ?? "info",
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      serializers: { err: stdSerializers.err, error: stdSerializers.err },
      hooks: { streamWrite: (line) => scrubLine(line, secrets) },
    },
    options.destination ?? pino.destination(1),
  );
}
