import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What test/fixtures/probe/probe.mjs reports about itself. */
export interface ProbeReport {
  pid: number;
  pgid: number;
  helperPids: number[];
  uid: number;
  gid: number;
  cwd: string;
  env: Record<string, string>;
  files: Array<{ path: string; contentBase64: string; mode: number; uid: number; gid: number }>;
}

/** A small HTTP server the probes post to: `POST /report/<thopterId>`. */
export class ProbeReceiver {
  private readonly reports = new Map<string, ProbeReport>();
  private readonly waiters = new Map<string, (report: ProbeReport) => void>();
  private constructor(
    private readonly server: Server,
    private readonly hostname: string,
  ) {}

  /** Listens on `host`; probes are told `urlHost` (a container reaches this host at its network's gateway). */
  static async start(host = "127.0.0.1", urlHost = host): Promise<ProbeReceiver> {
    const server = createServer();
    const receiver = new ProbeReceiver(server, urlHost);
    server.on("request", (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const id = req.url?.match(/^\/report\/([^/]+)$/)?.[1];
        if (req.method !== "POST" || id === undefined) return res.writeHead(404).end();
        receiver.accept(id, JSON.parse(Buffer.concat(chunks).toString("utf8")) as ProbeReport);
        res.writeHead(204).end();
      });
    });
    server.listen(0, host);
    await once(server, "listening");
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  urlFor(thopterId: string): string {
    return `http://${this.hostname}:${this.port}/report/${thopterId}`;
  }

  private accept(id: string, report: ProbeReport): void {
    this.reports.set(id, report);
    this.waiters.get(id)?.(report);
  }

  /** The probe's report, waiting for it up to `ms`. */
  report(thopterId: string, ms = 30_000): Promise<ProbeReport> {
    const ready = this.reports.get(thopterId);
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no probe report from ${thopterId} within ${ms} ms`)), ms);
      this.waiters.set(thopterId, (report) => {
        clearTimeout(timer);
        resolve(report);
      });
    });
  }

  async close(): Promise<void> {
    this.server.close();
    this.server.closeAllConnections();
  }
}
