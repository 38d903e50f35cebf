import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { urlHost } from "./url-host.js";

/** A listening HTTP server, its base URL (the real port when 0 was asked for), and a close that drops open sockets. */
export interface Listening<S extends Server = Server> {
  server: S;
  url: string;
  close(): Promise<void>;
}

/** Listens on host:port and resolves once bound; rejects with the bind error (EADDRINUSE, EACCES). */
export function listenHttp<S extends Server>(server: S, port: number, host: string): Promise<Listening<S>> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const bound = (server.address() as AddressInfo).port;
      resolve({
        server,
        url: `http://${urlHost(host)}:${bound}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Keep-alive connections would hold close() open until they time out.
            server.closeAllConnections();
          }),
      });
    });
  });
}
