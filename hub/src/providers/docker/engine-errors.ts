/** What dockerode rejects with: the engine's HTTP status, or the socket's error code when it is not answering. */
interface EngineError {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
  message?: string;
}

const asEngineError = (err: unknown): EngineError => (typeof err === "object" && err !== null ? err : {});

export const isNotFound = (err: unknown) => asEngineError(err).statusCode === 404;
export const isConflict = (err: unknown) => asEngineError(err).statusCode === 409;

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOENT", "EACCES", "ECONNRESET", "EHOSTUNREACH", "ETIMEDOUT"]);

/** The engine's own words for a failed call, without dockerode's "(HTTP code 500) server error -" prefix. */
export function engineMessage(err: unknown): string {
  const e = asEngineError(err);
  return e.json?.message ?? e.message ?? String(err);
}

/** For the failure comment: a connection failure becomes "start the daemon", anything else stays as it came. */
export function explainEngineError(err: unknown, dockerHost: string): Error {
  const e = asEngineError(err);
  if (e.code && UNREACHABLE.has(e.code)) {
    return new Error(
      `the container engine at ${dockerHost} is not answering (${e.code}): start it ` +
        "(`systemctl start docker`, or `podman system service --time=0` for Podman) or set DOCKER_HOST to where it listens",
    );
  }
  return err instanceof Error ? err : new Error(engineMessage(err));
}

export function missingImageError(image: string): Error {
  return new Error(
    `the thopter image ${image} is not on the container engine: build it from the repository root with ` +
      `\`docker build -f thopter/Dockerfile -t ${image} .\` (or \`podman build\`), or set THOPTER_IMAGE to one that is`,
  );
}
