import { createServer } from "node:net";

/**
 * A TCP port that was free a moment ago on `host`, for programs that cannot bind port 0 themselves (redis-server).
 * Another process may take it before you do: callers retry on "address in use".
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}
