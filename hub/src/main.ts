// `pnpm start`: the hub as a process. Configuration comes from the environment and `.env` (see DESIGN.md).
import { ConfigError, loadConfigWithEnvFile } from "./config.js";
import { startHub } from "./hub.js";

let config: ReturnType<typeof loadConfigWithEnvFile>;
try {
  config = loadConfigWithEnvFile();
} catch (err) {
  // One line naming the variable; never the value (it may be a token).
  console.error(err instanceof ConfigError ? err.message : `configuration: ${(err as Error).message}`);
  process.exit(1);
}

try {
  const hub = await startHub(config);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    hub.log.info({ signal }, "stopping");
    hub.stop().then(
      () => process.exit(0),
      (err) => {
        hub.log.error({ err }, "stop failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
