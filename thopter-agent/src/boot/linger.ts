import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { RunningServer } from "../access/server.js";

/** How long a failed boot keeps serving its boot log, in seconds (a whole number, 0 for not at all). */
const LINGER_VARIABLE = "THOPTER_FAILED_LINGER_SECONDS";
/** Long enough for a user told "failed" to open the dashboard's boot-log link; the machine then stops. */
const DEFAULT_LINGER_SECONDS = 600;

/** The linger THOPTER_FAILED_LINGER_SECONDS asks for, in ms; a value that is not a whole number of seconds is refused. */
export function failedLingerMs(env: NodeJS.ProcessEnv): number {
  const raw = env[LINGER_VARIABLE]?.trim();
  if (!raw) return DEFAULT_LINGER_SECONDS * 1_000;
  if (!/^\d{1,7}$/.test(raw)) {
    throw new Error(
      `${LINGER_VARIABLE}=${JSON.stringify(raw)} must be a whole number of seconds (e.g. 600), or unset for ${DEFAULT_LINGER_SECONDS}`,
    );
  }
  return Number(raw) * 1_000;
}

/**
 * After a failed boot: the session log (and its `/boot-log`) keeps answering for `ms`, so the dashboard's link shows
 * why boot failed, then closes. Stopping the machine (SIGTERM) ends the wait sooner.
 */
export async function lingerServing(server: RunningServer, ms: number, log: Logger): Promise<void> {
  if (ms > 0) {
    log.info(
      { sessionLog: server.url, seconds: ms / 1_000 },
      "boot failed: the boot log stays served this long, then the machine stops",
    );
    await sleep(ms);
  }
  await server.close();
}
