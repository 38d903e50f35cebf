// The hub's public surface for other packages (the demo, end-to-end tests): start one in-process.
export { ConfigError, type HubConfig, loadConfig, loadConfigWithEnvFile } from "./config.js";
export { defaultEntrypoint, type Hub, type HubDeps, startHub } from "./hub.js";
