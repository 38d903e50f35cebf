import type { Logger } from "pino";
import { ConfigError } from "./config.js";

/**
 * The life of one of the thopter's root programs (the broker, the model proxy) from its `main`: started on the
 * config path, it prints one machine-readable `{"ready":true,"url":…}` line for whoever started it (boot, tests),
 * closes on SIGTERM/SIGINT, and exits 2 with the one line of a bad config, 1 on any other failure to start.
 */
export async function runService(
  what: string,
  log: Logger,
  start: () => Promise<{ url: string; close(): Promise<void> }>,
): Promise<void> {
  try {
    const service = await start();
    process.stdout.write(`${JSON.stringify({ ready: true, url: service.url })}\n`);
    const shutdown = () => void service.close().then(() => process.exit(0));
    process.on("SIGTERM", shutdown);
    process.on("SIGINT", shutdown);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    log.error({ err: err instanceof Error ? err.message : String(err) }, `${what} failed to start`);
    process.exit(1);
  }
}
