export * from "./call-stats.js";
export * from "./config.js";
export * from "./errors.js";
export * from "./golden-claude-volumes.js";
export * from "./machines-client.js";
export { FLY_RATE_LIMITS, type OperationKey } from "./rate-limits.js";
export type { RetryPolicy } from "./retry.js";
export type { Rate } from "./token-bucket.js";
export type * from "./types.js";
