import { z } from "zod";

/**
 * The collector route a thopter's root process (boot) streams its boot log and session transcripts to, so they outlive
 * the machine: `POST /v1/logs?file=<LogFileName>&offset=<bytes>` with the raw bytes of the file from `offset` as the
 * body (at most LOG_CHUNK_MAX_BYTES), broker-role token. The hub appends only what lies past what it already has, so
 * a retried chunk is kept once; an offset past its end is a 409 carrying its size, to resume from there.
 */
export const LOGS_PATH = "/v1/logs";

/** One chunk's largest body: a giant line arrives in several. */
export const LOG_CHUNK_MAX_BYTES = 256 * 1024;

/** Session transcripts one thopter may archive (a `/clear` or a restart starts another). */
export const LOG_MAX_SESSION_FILES = 64;

/**
 * Which file of the thopter: `boot` (its boot log) or `session-<name>` (a transcript; the name is the transcript's
 * path below Claude's projects folder with `.jsonl` cut and every other character than letters, digits, `_` and `-`
 * made `_`). The hub makes file names from this alone.
 */
export const LogFileName = z
  .string()
  .regex(/^(boot|session-[A-Za-z0-9_-]{1,120})$/, "must be boot or session-<letters, digits, _ or ->");
export type LogFileName = z.infer<typeof LogFileName>;

export const LogChunkQuery = z.strictObject({
  file: LogFileName,
  offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type LogChunkQuery = z.infer<typeof LogChunkQuery>;

/**
 * The hub's answer (200, or 409 for an offset past its end): how many bytes of the file it holds, and whether the
 * thopter's archive is full (then nothing more is kept, and the sender stops).
 */
export const LogChunkResult = z.object({ size: z.number().int().min(0), capped: z.boolean() });
export type LogChunkResult = z.infer<typeof LogChunkResult>;

/** The archive name of a transcript at `relativePath` below the projects folder. */
export function sessionLogName(relativePath: string): LogFileName {
  const stem = relativePath.replace(/\.jsonl$/, "").replace(/[^A-Za-z0-9_-]/g, "_");
  return `session-${stem.slice(-120)}`;
}
