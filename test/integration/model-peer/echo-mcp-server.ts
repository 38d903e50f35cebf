import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { InvalidTokenError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import { requireBearerAuth } from "@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js";
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

/** A tiny MCP server shaped like the broker: name `thopter`, Streamable HTTP on 127.0.0.1, bearer key, one tool. */
export interface EchoMcpServer {
  url: string;
  token: string;
  /** The `text` argument of every `echo` call that really ran. */
  calls: string[];
  close(): Promise<void>;
}

export async function startEchoMcpServer(token: string): Promise<EchoMcpServer> {
  const calls: string[] = [];
  const app = createMcpExpressApp({ host: "127.0.0.1" });
  // requireBearerAuth refuses an AuthInfo without a numeric expiresAt; no OAuth discovery routes on purpose.
  const auth = requireBearerAuth({
    verifier: {
      verifyAccessToken: async (presented) => {
        if (presented !== token) throw new InvalidTokenError("unknown bearer key");
        return { token: presented, clientId: "claude", scopes: [], expiresAt: Math.floor(Date.now() / 1000) + 3600 };
      },
    },
  });
  // Stateless Streamable HTTP: a fresh server and transport per POST.
  app.post("/mcp", auth, async (req, res) => {
    const server = new McpServer({ name: "thopter", version: "0.0.0" });
    server.registerTool(
      "echo",
      { description: "Echo the text back, prefixed with 'echo: '.", inputSchema: { text: z.string() } },
      async ({ text }) => {
        calls.push(text);
        return { content: [{ type: "text", text: `echo: ${text}` }] };
      },
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  // Stateless: no server-to-client stream to open, no session to delete.
  app.all("/mcp", (_req, res) => {
    res
      .status(405)
      .set("allow", "POST")
      .json({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed." }, id: null });
  });
  const http: Server = app.listen(0, "127.0.0.1");
  await once(http, "listening");
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    token,
    calls,
    close: async () => {
      http.closeAllConnections();
      http.close();
      await once(http, "close");
    },
  };
}
