import { LOG_CHUNK_MAX_BYTES, LOGS_PATH, type LogChunkQuery, LogChunkResult } from "@thopter/protocol";

/** What the hub said: `kept` (it holds `size` bytes; `capped`: keep no more), `retry` later, or `refused` for good. */
export type ChunkOutcome =
  | { kind: "kept"; size: number; capped: boolean }
  | { kind: "retry" }
  | { kind: "refused"; why: string };

export interface LogTarget {
  collectorUrl: string;
  token: string;
  timeoutMs: number;
}

/** POST /v1/logs with one chunk; never throws. A 409 (offset past the hub's end) says where the hub's copy ends. */
export async function postLogChunk(target: LogTarget, query: LogChunkQuery, body: Buffer): Promise<ChunkOutcome> {
  if (body.length > LOG_CHUNK_MAX_BYTES) throw new Error(`a log chunk is at most ${LOG_CHUNK_MAX_BYTES} bytes`);
  const url = new URL(LOGS_PATH, target.collectorUrl);
  url.search = new URLSearchParams({ file: query.file, offset: String(query.offset) }).toString();
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", authorization: `Bearer ${target.token}` },
      body: new Uint8Array(body),
      signal: AbortSignal.timeout(target.timeoutMs),
    });
    const text = await res.text().catch(() => "");
    if (res.ok || res.status === 409) {
      const parsed = LogChunkResult.safeParse(JSON.parse(text || "null"));
      if (parsed.success) return { kind: "kept", ...parsed.data };
      return { kind: "refused", why: `the hub answered ${res.status} without a size` };
    }
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
      return { kind: "refused", why: `${res.status} ${text.slice(0, 300)}` };
    }
    return { kind: "retry" };
  } catch {
    return { kind: "retry" };
  }
}
