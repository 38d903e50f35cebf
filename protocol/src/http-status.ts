/** The HTTP status of a failed call (Octokit's RequestError and the like); undefined when no answer came. */
export function httpStatus(err: unknown): number | undefined {
  return (err as { status?: number } | null)?.status;
}
