// The broker as the thopter entrypoint runs it, as root: `node broker-mcp/dist/src/main.js /etc/thopter/broker.json`
// (or BROKER_CONFIG=/etc/thopter/broker.json). The config file and both token files must be the broker's own, mode
// 0600. Not as root only with `"isolation": "off"` in the config (the agent is then this same user: see config.ts).
import pino from "pino";
import { writeAgentMcpConfig } from "./agent-wiring.js";
import { startBroker } from "./broker.js";
import { loadConfig } from "./config.js";
import { runService } from "./service-main.js";

const log = pino({ name: "broker" });
const path = process.argv[2] ?? process.env.BROKER_CONFIG;
if (!path) {
  console.error("usage: broker-mcp <config.json>  (or set BROKER_CONFIG)");
  process.exit(2);
}

await runService("broker", log, async () => {
  const config = loadConfig(path);
  if (config.isolation === "off") {
    log.warn(
      { uid: process.getuid?.(), agentUser: config.agentUser },
      "token isolation is OFF: the broker is not root and the agent runs as its own user, so the agent can read the GitHub tokens",
    );
  }
  const broker = await startBroker(config, { log });
  if (config.agentMcpConfigPath) {
    writeAgentMcpConfig({
      path: config.agentMcpConfigPath,
      url: broker.url,
      key: config.mcpKey,
      uid: config.agent.uid,
      gid: config.agent.gid,
    });
  }
  return broker;
});
