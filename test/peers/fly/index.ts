export * from "./fly-peer.js";
export { OpenApiValidator } from "./openapi-validator.js";
