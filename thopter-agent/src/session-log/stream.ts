import { once } from "node:events";
import type { ServerResponse } from "node:http";
import { type AccessClaims, onExpiry } from "../access/token.js";
import type { RenderOp } from "./render.js";
import type { TailEvents } from "./tail.js";

/** One SSE message: operations for one section of the page (a session file, or the boot log). */
export interface LogMessage {
  file: number;
  title?: string;
  ops: (RenderOp | { op: "reset" })[];
}

/** Anything that turns lines into page operations: the transcript renderer, the boot log renderer. */
export interface LineRenderer {
  write(line: string): void;
  take(): RenderOp[];
}

/** A server-sent event stream to one page. */
export interface EventStream {
  /** Sends one message; resolves once the socket takes more (so a huge backlog never sits in memory). */
  send(message: LogMessage): Promise<void>;
  /** Runs `stop` when the page goes away or the token expires. */
  onClose(stop: () => unknown): void;
}

const HEARTBEAT_MS = 15_000;

/**
 * Opens `res` as an event stream for the viewer holding `claims`: a heartbeat keeps proxies from closing it, and it
 * ends when the token expires (the page's reconnect then needs a fresh link from the hub).
 */
export function openEventStream(res: ServerResponse, claims: AccessClaims): EventStream {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-accel-buffering": "no",
  });
  res.flushHeaders();
  const closed = once(res, "close");
  const heartbeat = setInterval(() => res.write(": ping\n\n"), HEARTBEAT_MS);
  const cancelExpiry = onExpiry(claims, () => res.end());
  void closed.then(() => {
    clearInterval(heartbeat);
    cancelExpiry();
  });
  return {
    async send(message) {
      if (message.ops.length === 0 || res.destroyed) return;
      if (!res.write(`data: ${JSON.stringify(message)}\n\n`)) await Promise.race([once(res, "drain"), closed]);
    },
    onClose(stop) {
      void closed.then(stop);
    },
  };
}

/**
 * Tail events for one section of the page: each batch of lines rendered by `make()`'s renderer and sent; a truncated
 * or replaced file starts a fresh renderer and clears the section. The title goes with the section's first message.
 */
export function renderedSection(
  stream: EventStream,
  file: number,
  title: string,
  make: () => LineRenderer,
): TailEvents {
  let renderer = make();
  let titled = false;
  const send = (ops: LogMessage["ops"]) => {
    const message: LogMessage = titled ? { file, ops } : { file, title, ops };
    if (ops.length > 0) titled = true;
    return stream.send(message);
  };
  return {
    lines: (lines) => {
      for (const line of lines) renderer.write(line);
      return send(renderer.take());
    },
    reset: () => {
      renderer = make();
      return send([{ op: "reset" }]);
    },
  };
}
