import express, {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from "express";
import type { Audit } from "./audit.js";

/** A 65,536-character comment written entirely as `\uXXXX` escapes is 393,216 bytes; no valid call is larger. */
export const MAX_REQUEST_BYTES = 512 * 1024;
/** The JSON-RPC envelope is three levels deep and every tool's arguments are flat: 32 leaves room and no more. */
export const MAX_DEPTH = 32;
const ADVICE = "Call the tool again with only the flat arguments its schema lists.";

/** Whether a parsed JSON value nests deeper than `max` levels; iterative, so depth itself cannot overflow the stack. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, level] = stack.pop()!;
    if (node === null || typeof node !== "object") continue;
    if (level > max) return true;
    for (const child of Object.values(node)) stack.push([child, level + 1]);
  }
  return false;
}

const rpcId = (body: unknown) => {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === "string" || typeof id === "number" ? id : null;
};

/** The tool a refused request names, read without walking its arguments. */
function toolOf(body: unknown): string {
  const params = (body as { params?: { name?: unknown } } | null)?.params;
  return typeof params?.name === "string" ? params.name.slice(0, 64) : "(unparsed request)";
}

/**
 * The MCP request parsing boundary: the body is read with a size limit, and a request nested deeper than MAX_DEPTH
 * is refused before anything (the SDK's schemas, argument checks, the audit's redaction) walks it. Every refusal
 * (too large, not JSON, too deep) is audited, arguments left out: they are what could not be kept or walked.
 */
export function requestGuard(audit: Audit): (RequestHandler | ErrorRequestHandler)[] {
  const refuse = (res: Response, status: number, tool: string, id: string | number | null, message: string) => {
    audit.record({ tool, args: {}, outcome: "refused", message, durationMs: 0 });
    res.status(status).json({ jsonrpc: "2.0", id, error: { code: -32600, message } });
  };
  // Too large, not JSON, unknown charset: body-parser's own errors carry a type and a 4xx status.
  const bodyRefusal: ErrorRequestHandler = (err: { type?: unknown; status?: number }, _req, res, next) => {
    if (typeof err.type !== "string" || !err.status || err.status >= 500) return next(err);
    const message =
      err.type === "entity.too.large"
        ? `Request refused: larger than ${MAX_REQUEST_BYTES} bytes. ${ADVICE}`
        : `Request refused: the body is not valid JSON (${err.type}). ${ADVICE}`;
    refuse(res, err.status, "(unparsed request)", null, message);
  };
  const depthCheck = (req: Request, res: Response, next: NextFunction) => {
    if (!nestsDeeperThan(req.body, MAX_DEPTH)) return next();
    const message = `Request refused: nested deeper than ${MAX_DEPTH} levels. ${ADVICE}`;
    refuse(res, 400, toolOf(req.body), rpcId(req.body), message);
  };
  return [express.json({ limit: MAX_REQUEST_BYTES }), bodyRefusal, depthCheck];
}
