export {
  type AgentMcpConfigOptions,
  mcpConfig,
  mcpServerEntry,
  PUSH_TIMEOUT_MS,
  writeAgentMcpConfig,
} from "./agent-wiring.js";
export { type Broker, type BrokerOptions, startBroker, statePaths } from "./broker.js";
export {
  type BrokerConfig,
  BrokerConfigFile,
  type BrokerConfigInput,
  ConfigError,
  loadConfig,
  parseConfigFile,
} from "./config.js";
export { MCP_PATH, SERVER_NAME } from "./server.js";
