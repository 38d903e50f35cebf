import { createHash, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { localhostHostValidation } from "@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, type CallToolResult, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { type Listening, listenHttp } from "@thopter/protocol/listen";
import express, { type NextFunction, type Request, type Response } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import type { Audit } from "./audit.js";
import { peerUid } from "./peer-uid.js";
import { Refusal } from "./refusal.js";
import { requestGuard } from "./request-guard.js";
import { TOOLS } from "./tools/index.js";
import type { ToolContext, ToolDef } from "./tools/types.js";

export const SERVER_NAME = "thopter";
export const MCP_PATH = "/mcp";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Constant-time check of `Authorization: Bearer <key>` (hashing first makes the comparison length-independent). */
export function bearerMatches(header: string | undefined, key: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? "");
  return m !== null && timingSafeEqual(digest(m[1]!), digest(key));
}

/** What the model sees of a tool: JSON Schemas generated from the same zod schemas the calls are checked against. */
function listing(tool: ToolDef) {
  const schema = (zod: z.ZodType, io: "input" | "output") => {
    const { $schema: _, ...json } = z.toJSONSchema(zod, { io }) as Record<string, unknown>;
    return json as { type: "object"; [key: string]: unknown };
  };
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: schema(tool.input, "input"),
    ...(tool.output ? { outputSchema: schema(tool.output, "output") } : {}),
  };
}

const invalid = (tool: string, error: z.ZodError) =>
  `Invalid arguments for ${tool}: ${error.issues.map((i) => `${i.path.join(".") || "arguments"}: ${i.message}`).join("; ")}. Call it again with only the arguments its schema lists.`;

/**
 * The low-level SDK server rather than McpServer, so that arguments are checked here and every call (unknown tools
 * and rejected arguments included: they are what an attack looks like) reaches the audit trail.
 */
function mcpServer(ctx: ToolContext, audit: Audit, log: Logger): Server {
  const server = new Server({ name: SERVER_NAME, version: "1.0.0" }, { capabilities: { tools: {} } });
  const tools = new Map(TOOLS.map((t) => [t.name, t]));
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS.map(listing) }));
  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const { name, arguments: args = {} } = request.params;
    const started = performance.now();
    const finish = (outcome: "ok" | "refused" | "error", message: string) =>
      audit.record({ tool: name.slice(0, 64), args, outcome, message, durationMs: performance.now() - started });
    const fail = (outcome: "refused" | "error", text: string): CallToolResult => {
      finish(outcome, text);
      return { isError: true, content: [{ type: "text", text: ctx.redact(text) }] };
    };
    const tool = tools.get(name);
    if (!tool)
      return fail("refused", `There is no tool named ${name}; the broker's tools are ${[...tools.keys()].join(", ")}.`);
    const parsed = tool.input.safeParse(args);
    if (!parsed.success) return fail("refused", invalid(name, parsed.error));
    try {
      const out = await tool.run(ctx, parsed.data);
      finish("ok", out.text);
      return {
        content: [{ type: "text", text: out.text }],
        ...(out.structured ? { structuredContent: out.structured } : {}),
      };
    } catch (err) {
      if (err instanceof Refusal) return fail("refused", err.message);
      log.error({ tool: name, err: ctx.redact(String(err)) }, "tool failed");
      return fail(
        "error",
        `The broker could not complete ${name}: ${ctx.redact((err as Error).message)}. Try again later; if it keeps failing, report_status blocked with this message.`,
      );
    }
  });
  return server;
}

/**
 * Stateless Streamable HTTP: a fresh McpServer and transport per POST. Listens on 127.0.0.1 only (Host header
 * checked against DNS rebinding by the SDK), wants the bearer key before reading a body, bounds the body's size and
 * depth (request-guard), and serves no OAuth discovery routes, so Claude Code never starts an OAuth flow.
 */
export function listen(ctx: ToolContext, audit: Audit, log: Logger, port: number): Promise<Listening> {
  const app = express();
  app.use(localhostHostValidation());
  // The key and the caller's uid: another local thopter's agent (its own uid) is refused even with this key.
  const callers = new Set([ctx.config.agent.uid, process.getuid?.() ?? -1]);
  app.use(MCP_PATH, async (req: Request, res: Response, next: NextFunction) => {
    const uid = await peerUid(req.socket);
    if (bearerMatches(req.headers.authorization, ctx.config.mcpKey) && uid !== undefined && callers.has(uid)) {
      return next();
    }
    log.warn({ method: req.method, uid }, "MCP request without the right bearer key, or not from the agent's uid");
    res.status(401).json({ jsonrpc: "2.0", error: { code: -32001, message: "Unauthorized" }, id: null });
  });
  app.use(MCP_PATH, ...requestGuard(audit));
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
  return listenHttp(createServer(app), port, "127.0.0.1");
}
