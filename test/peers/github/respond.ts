import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Writes a response with the headers every api.github.com answer carries; returns the status (for the request log). */
export function send(res: ServerResponse, status: number, headers: Record<string, string>, body?: string): number {
  res.writeHead(status, {
    server: "github.com",
    "x-github-api-version-selected": "2022-11-28",
    "x-github-media-type": "github.v3; format=json",
    ...headers,
  });
  res.end(body);
  return status;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): number {
  return send(res, status, { "content-type": "application/json; charset=utf-8", ...headers }, JSON.stringify(body));
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** An `x-github-request-id` in GitHub's shape. */
export function requestId(): string {
  return randomBytes(10)
    .toString("hex")
    .toUpperCase()
    .replace(/(.{4})(.{4})(.{4})(.{4})(.{4})/, "$1:$2:$3:$4:$5");
}
