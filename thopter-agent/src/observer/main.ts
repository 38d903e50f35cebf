// The observer process (as the agent, started at boot): `observer <observer.json>`. Runs until SIGTERM.
import pino from "pino";
import { readObserverConfig } from "./config.js";
import { Observer } from "./observer.js";

const log = pino({ name: "observer" });
const configPath = process.argv[2];
if (!configPath) {
  console.error("usage: observer <observer.json>");
  process.exit(2);
}
let observer: Observer;
try {
  observer = new Observer({ config: readObserverConfig(configPath), log });
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
observer.start();
log.info("observer started");
const stop = () => void observer.stop().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
