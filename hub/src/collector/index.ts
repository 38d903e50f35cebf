export { applyBrokerReport, applyStatus } from "./apply.js";
export { type CollectorOptions, createCollector, DEFAULT_MAX_BODY_BYTES, startCollector } from "./server.js";
export { type ThopterTokens, type TokenRole, TokenStore } from "./tokens.js";
