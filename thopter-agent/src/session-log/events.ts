import { once } from "node:events";
import type { ServerResponse } from "node:http";
import { relative } from "node:path";
import type { Logger } from "pino";
import { type AccessClaims, onExpiry } from "../access/token.js";
import { TranscriptFolder } from "./follow.js";
import { type RenderOp, TranscriptRenderer } from "./render.js";

/** One SSE message: operations for one session file's section of the page. */
export interface LogMessage {
  file: number;
  title?: string;
  ops: (RenderOp | { op: "reset" })[];
}

const HEARTBEAT_MS = 15_000;

/**
 * Streams the sessions in `dir` to one page as server-sent events: first everything already written (the full
 * render), then each new line as it lands. Each connection follows the files itself, so what a page shows is always
 * one consistent pass over them. Writes wait for the socket to drain, bounding memory for huge transcripts. The
 * stream ends when the viewer's token expires (the page's reconnect then needs a fresh link).
 */
export interface StreamOptions {
  dir: string;
  log: Logger;
  pollMs?: number;
  /** The viewer's access: the stream ends when its token expires. */
  claims: AccessClaims;
}

export function streamSessionEvents(res: ServerResponse, { dir, log, pollMs, claims }: StreamOptions): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-accel-buffering": "no",
  });
  res.flushHeaders();
  const closed = once(res, "close");
  const send = async (message: LogMessage): Promise<void> => {
    if (message.ops.length === 0 || res.destroyed) return;
    if (!res.write(`data: ${JSON.stringify(message)}\n\n`)) await Promise.race([once(res, "drain"), closed]);
  };
  let files = 0;
  const folder = new TranscriptFolder({
    dir,
    pollMs,
    onError: (err) => log.error({ err }, "session log: reading a transcript failed"),
    open: (file) => {
      const key = files++;
      let renderer = new TranscriptRenderer();
      let titled = false;
      const title = (): string | undefined => {
        if (titled) return undefined;
        titled = true;
        return relative(dir, file);
      };
      return {
        lines: (lines) => {
          for (const line of lines) renderer.write(line);
          return send({ file: key, title: title(), ops: renderer.take() });
        },
        reset: () => {
          renderer = new TranscriptRenderer();
          return send({ file: key, title: title(), ops: [{ op: "reset" }] });
        },
      };
    },
  });
  folder.start();
  const heartbeat = setInterval(() => res.write(": ping\n\n"), HEARTBEAT_MS);
  const cancelExpiry = onExpiry(claims, () => res.end());
  void closed.then(() => {
    clearInterval(heartbeat);
    cancelExpiry();
    return folder.stop();
  });
}
