// The model proxy as boot runs it, as root: `node broker-mcp/dist/src/model-proxy/main.js /etc/thopter/secrets/model-proxy.json`.
// The config, the credential file and the report token file must be its own, mode 0600. Not as root only with
// `"isolation": "off"` (the agent is then this same user and can read the credential: logged as a warning).
import pino from "pino";
import { runService } from "../service-main.js";
import { loadModelProxyConfig } from "./config.js";
import { startModelProxy } from "./proxy.js";

const log = pino({ name: "model-proxy" });
const path = process.argv[2];
if (!path) {
  console.error("usage: model-proxy <config.json>");
  process.exit(2);
}

await runService("model proxy", log, async () => {
  const config = loadModelProxyConfig(path);
  if (config.isolation === "off") {
    log.warn(
      { uid: process.getuid?.(), agentUser: config.agentUser },
      "credential isolation is OFF: the model proxy is not root and the agent runs as its own user, so the agent can read the model credential",
    );
  }
  return startModelProxy(config, log);
});
