import type { ThopterRequest } from "@thopter/protocol";

/** The thopter ids of a start request: derived from the request, so a restarted hub reaches the same ids. */
export function thopterIdsFor(request: ThopterRequest): string[] {
  const count = request.command.kind === "start" ? request.command.count : 0;
  const base = request.id.replace(/^r/, "").slice(0, 8);
  return Array.from({ length: count }, (_, i) => `${base}-${i + 1}`);
}
