/**
 * Root reading what the agent controls (its transcripts, anything in its home): opened without following links, never
 * a FIFO or device, only files the agent owns inside the folder they belong in (`openAgentFile`); folders walked
 * without following links (`findAgentFiles`).
 */
export { type AgentFileRules, openAgentFile, ownFiles, RefusedFile } from "./open.js";
export { type FoundFile, findAgentFiles } from "./walk.js";
