import type { IPty } from "@lydell/node-pty";
import type { Logger } from "pino";
import type { WebSocket } from "ws";
import { z } from "zod";
import { type AccessClaims, onExpiry } from "../access/token.js";
import { type AttachOptions, attachTmux } from "./attach.js";

/** What the page sends: keystrokes, or its size in character cells. */
const ClientMessage = z.discriminatedUnion("t", [
  z.object({ t: z.literal("in"), d: z.string() }),
  z.object({ t: z.literal("resize"), cols: z.number().int().min(2).max(1000), rows: z.number().int().min(2).max(500) }),
]);

/** Output queued to a slow browser beyond this pauses the pty (tmux then holds it) until the queue drains. */
const HIGH_WATER = 1 << 20;

/**
 * One browser connection: its own pty attached to tmux, killed when either side closes or when the token that opened
 * it expires.
 */
export function serveTerminal(
  ws: WebSocket,
  attach: Omit<AttachOptions, "cols" | "rows">,
  claims: AccessClaims,
  log: Logger,
): void {
  let pty: IPty;
  try {
    pty = attachTmux({ ...attach, cols: 80, rows: 24 });
  } catch (err) {
    log.error({ err }, "terminal: could not start tmux attach");
    ws.close(1011, "could not start tmux attach; is tmux installed?");
    return;
  }
  const cancelExpiry = onExpiry(claims, () => ws.close(1008, "access token expired; open a fresh link from the hub"));
  let paused = false;
  const resumeWhenDrained = (): void => {
    if (paused && ws.bufferedAmount < HIGH_WATER / 4) {
      paused = false;
      pty.resume();
    }
  };
  pty.onData((data) => {
    ws.send(data, resumeWhenDrained);
    if (!paused && ws.bufferedAmount > HIGH_WATER) {
      paused = true;
      pty.pause();
    }
  });
  pty.onExit(({ exitCode }) => {
    log.info({ exitCode }, "terminal: tmux client exited");
    ws.close(
      1000,
      exitCode === 0 ? "terminal session ended" : `tmux attach failed (exit ${exitCode}): is the session running?`,
    );
  });
  ws.on("message", (raw, isBinary) => {
    let message: z.infer<typeof ClientMessage>;
    try {
      if (isBinary) throw new Error("binary frame");
      message = ClientMessage.parse(JSON.parse(raw.toString()));
    } catch {
      ws.close(1008, 'expected JSON {"t":"in","d":"…"} or {"t":"resize","cols":N,"rows":N}');
      return;
    }
    if (message.t === "resize") pty.resize(message.cols, message.rows);
    else if (!attach.readOnly) pty.write(message.d);
  });
  ws.on("close", () => {
    cancelExpiry();
    pty.kill();
  });
}
