import type { Server } from "node:http";
import { type Listening, listenHttp } from "@thopter/protocol/listen";
import { ConfigError } from "../config.js";

/**
 * `listenHttp` for a port a variable names: a port in use (or not ours to take) stops the hub with one line naming
 * the variable, instead of `listen EADDRINUSE`.
 */
export async function listenOn<S extends Server>(
  variable: "HUB_PORT" | "HUB_STATUS_PORT",
  server: S,
  port: number,
  host: string,
): Promise<Listening<S>> {
  try {
    return await listenHttp(server, port, host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "EADDRINUSE"
        ? "is in use by another process (another hub still running?)"
        : code === "EACCES"
          ? "may not be opened by this user (ports below 1024 need root)"
          : code === "EADDRNOTAVAIL"
            ? "cannot be opened: HUB_HOST is not an address of this host"
            : undefined;
    if (!why) throw err;
    throw new ConfigError(
      variable,
      `${variable}: port ${port} on ${host} ${why}; stop what holds it or set ${variable} to a free port`,
    );
  }
}
