export { type Message, type MessagesRequest, textParts } from "./messages-schema.js";
export * from "./scenario.js";
export { type ModelPeer, type ModelPeerOptions, type RecordedRequest, startModelPeer } from "./server.js";
