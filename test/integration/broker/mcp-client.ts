// vitest loads dependencies with the workspace's "source" export condition, and eventsource-parser (used by the MCP
// SDK's client) publishes its TypeScript sources under that condition: let tsx load them in this worker.
import { register } from "tsx/esm/api";

register();

export const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
export const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
