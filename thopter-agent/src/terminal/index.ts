export type { RunAs } from "./attach.js";
export { startTerminalServer, type TerminalServerOptions } from "./server.js";
