/**
 * The thopter's side of the firewall test, run inside the thopter namespace: reads one JSON request per line on
 * stdin and answers one JSON line per request on stdout, so one process serves every check.
 *   {"id":1,"op":"tcp","host":"198.18.0.10","port":443}      → {"id":1,"ok":true}  (connected and greeted)
 *   {"id":2,"op":"dns","server":"10.231.0.53","name":"x.test"} → {"id":2,"ok":true,"addresses":[…]}
 *   {"id":3,"op":"loopback","host":"::1"}                     → {"id":3,"ok":true}  (a listener of its own)
 * A failure answers `ok: false` with the error code; every check gives up after `timeoutMs` (default 2 s).
 * Prints `{"ready":true}` first.
 */
import { Resolver } from "node:dns/promises";
import { connect, createServer } from "node:net";
import { createInterface } from "node:readline";

export type ProbeRequest =
  | { op: "tcp"; host: string; port: number; timeoutMs?: number }
  | { op: "dns"; server: string; name: string; timeoutMs?: number }
  | { op: "loopback"; host: string; timeoutMs?: number };

export interface ProbeAnswer {
  id: number;
  ok: boolean;
  error?: string;
  addresses?: string[];
}

function tcp(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once("data", () => {
      socket.destroy();
      resolve();
    });
    socket.once("timeout", () => {
      socket.destroy();
      reject(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" }));
    });
    socket.once("error", reject);
  });
}

async function dns(server: string, name: string, timeoutMs: number): Promise<string[]> {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers([server]);
  return resolver.resolve4(name);
}

async function loopback(host: string, timeoutMs: number): Promise<void> {
  const server = createServer((socket) => socket.end("hi\n"));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  try {
    await tcp(host, typeof address === "object" && address ? address.port : 0, timeoutMs);
  } finally {
    server.close();
  }
}

async function handle(request: ProbeRequest): Promise<Omit<ProbeAnswer, "id">> {
  const timeoutMs = request.timeoutMs ?? 2_000;
  if (request.op === "tcp") await tcp(request.host, request.port, timeoutMs);
  if (request.op === "loopback") await loopback(request.host, timeoutMs);
  if (request.op === "dns") return { ok: true, addresses: await dns(request.server, request.name, timeoutMs) };
  return { ok: true };
}

process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  const { id, ...request } = JSON.parse(line) as ProbeRequest & { id: number };
  handle(request).then(
    (result) => process.stdout.write(`${JSON.stringify({ id, ...result })}\n`),
    (err: NodeJS.ErrnoException) =>
      process.stdout.write(`${JSON.stringify({ id, ok: false, error: err.code ?? err.message })}\n`),
  );
}
