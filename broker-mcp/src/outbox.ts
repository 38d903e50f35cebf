import { randomUUID } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { BrokerReport } from "@thopter/protocol";
import type { Logger } from "pino";

export interface OutboxOptions {
  /** Root-owned directory; one file per report, named so that names sort in send order. */
  dir: string;
  /** The collector's `POST /v1/reports` URL. */
  url: string;
  token: string;
  log: Logger;
  minDelayMs: number;
  maxDelayMs: number;
  requestTimeoutMs?: number;
}

const PENDING = /^\d{12}-[0-9a-f-]{36}\.json$/;

export function writeDurably(path: string, data: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reports to the hub, durably and in order: `enqueue` returns only once the report is on disk; one sender delivers
 * the oldest first and deletes it on a 2xx (or 409, "already have it"), so a restart or a hub outage loses nothing.
 * Retries reuse the report's idempotency key, so the hub counts each report once.
 */
export class Outbox {
  private seq: number;
  private running = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly opts: OutboxOptions) {
    mkdirSync(join(opts.dir, "dead"), { recursive: true, mode: 0o700 });
    const last = this.files().at(-1);
    this.seq = last ? Number(last.slice(0, 12)) + 1 : 1;
  }

  private files(): string[] {
    return readdirSync(this.opts.dir)
      .filter((f) => PENDING.test(f))
      .sort();
  }

  pending(): number {
    return this.files().length;
  }

  enqueue(body: BrokerReport["body"]): BrokerReport {
    const report = BrokerReport.parse({ idempotencyKey: randomUUID(), at: new Date().toISOString(), body });
    const name = `${String(this.seq++).padStart(12, "0")}-${report.idempotencyKey}.json`;
    writeDurably(join(this.opts.dir, name), JSON.stringify(report));
    fsyncDir(this.opts.dir);
    this.kick();
    return report;
  }

  /** Starts delivering; anything left from an earlier run goes first. */
  start(): void {
    this.stopped = false;
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.idle;
  }

  private kick(): void {
    if (this.stopped || this.running) return;
    this.running = true;
    this.idle = this.drain().finally(() => {
      this.running = false;
      if (!this.stopped && this.files().length) this.kick();
    });
  }

  private async drain(): Promise<void> {
    let delay = this.opts.minDelayMs;
    for (;;) {
      if (this.stopped) return;
      const next = this.files()[0];
      if (!next) return;
      const path = join(this.opts.dir, next);
      const outcome = await this.send(readFileSync(path, "utf8")).catch(() => "rejected" as const);
      if (outcome === "delivered") {
        rmSync(path, { force: true });
        delay = this.opts.minDelayMs;
      } else if (outcome === "rejected") {
        renameSync(path, join(this.opts.dir, "dead", next));
      } else {
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.opts.maxDelayMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async send(json: string): Promise<"delivered" | "rejected" | "retry"> {
    const parsed = BrokerReport.safeParse(JSON.parse(json));
    if (!parsed.success) {
      this.opts.log.error("unreadable report in the outbox; kept in outbox/dead");
      return "rejected";
    }
    const report = parsed.data;
    try {
      const res = await fetch(this.opts.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${this.opts.token}`,
          "idempotency-key": report.idempotencyKey,
        },
        body: json,
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 10_000),
      });
      await res.arrayBuffer().catch(() => {});
      if (res.ok || res.status === 409) return "delivered";
      if (res.status >= 400 && res.status < 500 && ![408, 425, 429].includes(res.status)) {
        this.opts.log.error(
          { status: res.status, key: report.idempotencyKey },
          "collector rejected a report; kept in outbox/dead",
        );
        return "rejected";
      }
      this.opts.log.warn({ status: res.status }, "collector unavailable; will retry");
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, "collector unreachable; will retry");
    }
    return "retry";
  }
}
