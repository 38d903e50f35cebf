// The model proxy as boot runs it, as root: `node broker-mcp/dist/src/model-proxy/main.js /etc/thopter/secrets/model-proxy.json`.
// The config, the credential file and the report token file must be its own, mode 0600. Not as root only with
// `"isolation": "off"` (the agent is then this same user and can read the credential: logged as a warning).
import pino from "pino";
import { ConfigError } from "../config.js";
import { loadModelProxyConfig } from "./config.js";
import { startModelProxy } from "./proxy.js";

const log = pino({ name: "model-proxy" });
const path = process.argv[2];
if (!path) {
  console.error("usage: model-proxy <config.json>");
  process.exit(2);
}

try {
  const config = loadModelProxyConfig(path);
  if (config.isolation === "off") {
    log.warn(
      { uid: process.getuid?.(), agentUser: config.agentUser },
      "credential isolation is OFF: the model proxy is not root and the agent runs as its own user, so the agent can read the model credential",
    );
  }
  const proxy = await startModelProxy(config, log);
  process.stdout.write(`${JSON.stringify({ ready: true, url: proxy.url })}\n`);
  const shutdown = () => void proxy.close().then(() => process.exit(0));
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  log.error({ err: err instanceof Error ? err.message : String(err) }, "model proxy failed to start");
  process.exit(1);
}
