import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { WebSocket, WebSocketServer } from "ws";
import type { Registry, RegistryChange } from "../registry/index.js";
import type { DashboardAuth } from "./auth.js";

export const LIVE_PATH = "/dashboard/live";

/** One pushed update: rendered rows, and the status bar, queue and health panel when they may have changed. */
export interface LiveMessage {
  rows: { id: string; html: string }[];
  status?: string;
  queue?: string;
  health?: string;
}

export interface LiveOptions {
  registry: Registry;
  auth: DashboardAuth;
  /** Renders one update for the thopters that changed (each row once, whatever the number of dashboards). */
  render(ids: string[], queueChanged: boolean): Promise<LiveMessage>;
  log: Logger;
  /** Changes within this window go out as one message (default 50 ms); the first after a quiet spell goes at once. */
  coalesceMs?: number;
  /** How often open sockets are pinged (default 30 s). */
  heartbeatMs?: number;
}

/** States a change from which means a request left the queue (or a new thopter appeared). */
const FROM_QUEUE = new Set([null, "requested", "provisioning"]);

/**
 * The dashboard's WebSocket endpoint: registry changes, coalesced, rendered once and sent to every open dashboard.
 * Sockets only receive; the same login as the pages is required, and the Origin must be this hub's.
 */
export class LiveUpdates {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  private readonly changed = new Set<string>();
  private queueChanged = false;
  /** Something besides the rows changed (the hub's health): the next update goes out even with no row in it. */
  private touched = false;
  private timer: NodeJS.Timeout | undefined;
  private lastFlush = 0;
  private flushing: Promise<void> = Promise.resolve();
  private readonly onChange = (change: RegistryChange) => {
    if (this.wss.clients.size === 0) return;
    this.changed.add(change.record.id);
    if (FROM_QUEUE.has(change.previousState) && change.previousState !== change.record.state) this.queueChanged = true;
    this.schedule();
  };
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? "/", "http://x").pathname !== LIVE_PATH) return;
    if (!this.opts.auth.originAllowed(req) || !this.opts.auth.allowed(req)) {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.alive.add(ws);
      ws.on("pong", () => this.alive.add(ws));
      ws.on("error", () => ws.terminate());
      // Nothing is read from dashboards; a message is a misbehaving client.
      ws.on("message", () => ws.close(1003, "this socket only sends"));
    });
  };
  private readonly servers = new Set<Server>();
  /** Sockets that answered the last ping; the others (a laptop closed mid-session) are dropped at the next one. */
  private readonly alive = new WeakSet<WebSocket>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly opts: LiveOptions) {
    opts.registry.on("change", this.onChange);
    this.heartbeat = setInterval(() => {
      for (const ws of this.wss.clients) {
        if (!this.alive.delete(ws)) ws.terminate();
        else ws.ping();
      }
    }, opts.heartbeatMs ?? 30_000);
    this.heartbeat.unref();
  }

  /** Serves the endpoint on `server` (the hub's HTTP server). */
  attach(server: Server): void {
    server.on("upgrade", this.onUpgrade);
    this.servers.add(server);
  }

  /** Sends the status bar and health panel again (the hub's health changed). */
  touch(): void {
    if (this.wss.clients.size === 0) return;
    this.touched = true;
    this.schedule();
  }

  get connections(): number {
    return this.wss.clients.size;
  }

  async close(): Promise<void> {
    this.opts.registry.off("change", this.onChange);
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
    for (const server of this.servers) server.off("upgrade", this.onUpgrade);
    for (const ws of this.wss.clients) ws.terminate();
    await this.flushing;
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastFlush + (this.opts.coalesceMs ?? 50) - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flushing.then(() => this.flush());
    }, wait);
  }

  private async flush(): Promise<void> {
    this.lastFlush = Date.now();
    const ids = [...this.changed];
    const queueChanged = this.queueChanged;
    const touched = this.touched;
    this.changed.clear();
    this.queueChanged = false;
    this.touched = false;
    if (ids.length === 0 && !touched) return;
    try {
      const data = JSON.stringify(await this.opts.render(ids, queueChanged));
      for (const ws of this.wss.clients) if (ws.readyState === WebSocket.OPEN) ws.send(data);
    } catch (err) {
      this.opts.log.warn({ err }, "could not push a dashboard update");
    }
  }
}
