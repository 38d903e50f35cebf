import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type BrokerReport, BrokerReport as BrokerReportSchema } from "@thopter/protocol";

/**
 * A stand-in for the hub collector's `POST /v1/reports`: checks the bearer token and the protocol schema, and
 * keeps each idempotency key once, as the hub does. It can go down (connections dropped) and come back, or lose
 * its answers after storing a report, to exercise the broker's outbox.
 */
export interface Receiver {
  url: string;
  /** Reports kept, in arrival order, one per idempotency key. */
  reports: BrokerReport[];
  /** Every accepted POST, duplicates included. */
  deliveries: number;
  /** Requests refused for a bad token or body. */
  refused: number;
  /** GitHub App tokens handed out on `POST /v1/github-token`. */
  renewals: number;
  mode: "up" | "down" | "lose-answers";
  waitFor(predicate: (reports: BrokerReport[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** `githubToken`: what the hub's `POST /v1/github-token` answers (a fresh App token); without it, 404 as for a PAT. */
export async function startReceiver(
  token: string,
  githubToken?: () => Promise<{ token: string; expiresAt: string }>,
): Promise<Receiver> {
  const seen = new Set<string>();
  const receiver: Receiver = {
    url: "",
    reports: [],
    deliveries: 0,
    refused: 0,
    renewals: 0,
    mode: "up",
    async waitFor(predicate, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      while (!predicate(receiver.reports)) {
        if (Date.now() > until)
          throw new Error(`receiver: condition not met; have ${JSON.stringify(receiver.reports)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer(async (req, res) => {
    if (receiver.mode === "down") {
      req.socket.destroy();
      return;
    }
    if (req.method === "POST" && req.url === "/v1/github-token" && req.headers.authorization === `Bearer ${token}`) {
      const minted = await githubToken?.();
      receiver.renewals += minted ? 1 : 0;
      res.writeHead(minted ? 200 : 404, { "content-type": "application/json" }).end(JSON.stringify(minted ?? {}));
      return;
    }
    if (req.method !== "POST" || req.url !== "/v1/reports" || req.headers.authorization !== `Bearer ${token}`) {
      receiver.refused++;
      res.writeHead(401).end();
      return;
    }
    const parsed = BrokerReportSchema.safeParse(JSON.parse(await body(req)));
    if (!parsed.success) {
      receiver.refused++;
      res.writeHead(400).end(parsed.error.message);
      return;
    }
    receiver.deliveries++;
    if (!seen.has(parsed.data.idempotencyKey)) {
      seen.add(parsed.data.idempotencyKey);
      receiver.reports.push(parsed.data);
    }
    if (receiver.mode === "lose-answers") req.socket.destroy();
    else res.writeHead(202).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}
