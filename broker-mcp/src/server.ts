import { createHash, timingSafeEqual } from "node:crypto";
import type { Server } from "node:http";
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { NextFunction, Request, Response } from "express";
import type { Logger } from "pino";
import type { Audit } from "./audit.js";
import { Refusal } from "./refusal.js";
import { TOOLS } from "./tools/index.js";
import type { ToolContext } from "./tools/types.js";

export const SERVER_NAME = "thopter";
export const MCP_PATH = "/mcp";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Constant-time check of `Authorization: Bearer <key>` (hashing first makes the comparison length-independent). */
export function bearerMatches(header: string | undefined, key: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? "");
  return m !== null && timingSafeEqual(digest(m[1]!), digest(key));
}

function mcpServer(ctx: ToolContext, audit: Audit, log: Logger): McpServer {
  const server = new McpServer({ name: SERVER_NAME, version: "1.0.0" });
  for (const tool of TOOLS) {
    server.registerTool(
      tool.name,
      { title: tool.title, description: tool.description, inputSchema: tool.input, outputSchema: tool.output },
      async (args: Record<string, unknown>): Promise<CallToolResult> => {
        const started = performance.now();
        const finish = (outcome: "ok" | "refused" | "error", message: string) =>
          audit.record({ tool: tool.name, args, outcome, message, durationMs: performance.now() - started });
        try {
          const out = await tool.run(ctx, args);
          finish("ok", out.text);
          return {
            content: [{ type: "text", text: out.text }],
            ...(out.structured ? { structuredContent: out.structured } : {}),
          };
        } catch (err) {
          const refused = err instanceof Refusal;
          const text = refused
            ? err.message
            : `The broker could not complete ${tool.name}: ${ctx.redact((err as Error).message)}. Try again later; if it keeps failing, report_status blocked with this message.`;
          if (!refused) log.error({ tool: tool.name, err: ctx.redact(String(err)) }, "tool failed");
          finish(refused ? "refused" : "error", text);
          return { isError: true, content: [{ type: "text", text: ctx.redact(text) }] };
        }
      },
    );
  }
  return server;
}

/**
 * Stateless Streamable HTTP: a fresh McpServer and transport per POST. Listens on 127.0.0.1 only (Host header
 * checked against DNS rebinding by the SDK), wants the bearer key, and serves no OAuth discovery routes, so Claude
 * Code never starts an OAuth flow.
 */
export function listen(ctx: ToolContext, audit: Audit, log: Logger, port: number): Promise<Server> {
  const app = createMcpExpressApp({ host: "127.0.0.1" });
  app.use(MCP_PATH, (req: Request, res: Response, next: NextFunction) => {
    if (bearerMatches(req.headers.authorization, ctx.config.mcpKey)) return next();
    log.warn({ method: req.method }, "MCP request without the right bearer key");
    res.status(401).json({ jsonrpc: "2.0", error: { code: -32001, message: "Unauthorized" }, id: null });
  });
  app.post(MCP_PATH, async (req: Request, res: Response) => {
    const server = mcpServer(ctx, audit, log);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (err) {
      log.error({ err: ctx.redact(String(err)) }, "MCP request failed");
      if (!res.headersSent) {
        res.status(500).json({ jsonrpc: "2.0", error: { code: -32603, message: "Internal error" }, id: null });
      }
    }
  });
  const notAllowed = (_req: Request, res: Response) => {
    res
      .status(405)
      .set("Allow", "POST")
      .json({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed" }, id: null });
  };
  app.get(MCP_PATH, notAllowed);
  app.delete(MCP_PATH, notAllowed);
  return new Promise((resolve, reject) => {
    const server = app.listen(port, "127.0.0.1", (err?: Error) => (err ? reject(err) : resolve(server)));
  });
}
