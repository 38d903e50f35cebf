/**
 * The world outside a thopter, run inside the peer namespace (`ip netns exec … node … world.ts CONFIG_JSON`):
 * TCP listeners on every local address for the given ports (a greeting, then close), GitHub's `GET /meta` over
 * HTTP, and DNS servers on udp/53 of the given addresses answering from a fixed table (NXDOMAIN otherwise).
 * Ports are fixed on purpose: the namespace is this test run's own, so nothing else can hold them.
 * Prints one JSON line `{"ready":true}` once everything listens.
 */
import { createSocket } from "node:dgram";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server } from "node:net";
import { answerQuery, type DnsNames } from "../../helpers/dns-answer.js";

export interface WorldConfig {
  tcpPorts: number[];
  httpPort: number;
  meta: unknown;
  /** One socket per address: a reply from a wildcard socket would leave from another address, which resolvers drop. */
  dnsAddresses: string[];
  names: DnsNames;
}

const config = JSON.parse(process.argv[2] ?? "{}") as WorldConfig;

function listen(server: Server | ReturnType<typeof createHttpServer>, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "::", port, ipv6Only: false }, resolve);
  });
}

await Promise.all(
  config.tcpPorts.map((port) =>
    listen(
      createServer((socket) => socket.end("hi\n")),
      port,
    ),
  ),
);
await listen(
  createHttpServer((req, res) => {
    if (req.url !== "/meta") return res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(config.meta));
  }),
  config.httpPort,
);
await Promise.all(
  config.dnsAddresses.map((address) => {
    const dns = createSocket(address.includes(":") ? "udp6" : "udp4");
    dns.on("message", (message, from) => dns.send(answerQuery(message, config.names), from.port, from.address));
    return new Promise<void>((resolve) => dns.bind(53, address, resolve));
  }),
);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
