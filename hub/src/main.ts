// `pnpm start`: the hub as a process. Configuration comes from the environment and `.env` (docs/architecture.md#configuration).

import { ThopterEnvError } from "@thopter/protocol";
import { ConfigError, type HubConfig, loadConfigWithEnvFile } from "./config.js";
import { startHub } from "./hub.js";
import { readThopterEnv } from "./scheduler/thopter-env.js";

let config: HubConfig;
try {
  config = loadConfigWithEnvFile();
  // A secret the hub could not protect stops it now, rather than failing every thopter.
  await readThopterEnv(config.THOPTER_ENV_FILE);
} catch (err) {
  // One line naming the variable; never the value (it may be a token).
  const named = err instanceof ConfigError || err instanceof ThopterEnvError;
  console.error(named ? err.message : `configuration: ${(err as Error).message}`);
  process.exit(1);
}

// Aborted by the first signal: GitHub requests in flight (a first poll cycle included) end at once.
const abort = new AbortController();
const starting = startHub(config, { signal: abort.signal });
// Installed before the hub is up, so a SIGTERM during start still stops it cleanly.
let stopping = false;
const stop = async (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  abort.abort();
  const hub = await starting.catch(() => process.exit(1));
  hub.log.info({ signal }, "stopping");
  try {
    await hub.stop();
    process.exit(0);
  } catch (err) {
    hub.log.error({ err }, "stop failed");
    process.exit(1);
  }
};
process.on("SIGTERM", (signal) => void stop(signal));
process.on("SIGINT", (signal) => void stop(signal));

try {
  await starting;
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
