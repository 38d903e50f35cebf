import { randomUUID } from "node:crypto";
import { chownSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { expect } from "vitest";
import { asAgent } from "./agent.js";
import type { World } from "./harness.js";

/**
 * POSTs a hand-written JSON-RPC body to the broker as the agent would, with curl and its MCP key. Each call writes
 * its own request file, so calls may run in parallel.
 */
export async function postAsAgent(w: World, body: string): Promise<{ status: number; text: string }> {
  const file = join(w.agentHome, `request-${randomUUID()}.json`);
  writeFileSync(file, body);
  chownSync(file, w.agent.uid, w.agent.gid);
  const out = await asAgent(w.agent, w.agentHome, "curl", [
    "-sS",
    "-w",
    "\n%{http_code}",
    "-H",
    `Authorization: Bearer ${w.mcpKey}`,
    "-H",
    "content-type: application/json",
    "-H",
    "accept: application/json, text/event-stream",
    "--data-binary",
    `@${file}`,
    w.broker.url,
  ]);
  const cut = out.lastIndexOf("\n");
  return { status: Number(out.slice(cut + 1)), text: out.slice(0, cut) };
}

export const toolCall = (name: string, argsJson: string) =>
  `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"${name}","arguments":${argsJson}}}`;

/** A tool call made by the agent itself (curl, its MCP key), answered as an SSE message or plain JSON. */
export async function callAsAgent(w: World, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const answer = await postAsAgent(w, toolCall(name, JSON.stringify(args)));
  expect(answer.status, answer.text).toBe(200);
  const data = /^data: (.*)$/m.exec(answer.text)?.[1] ?? answer.text;
  return (JSON.parse(data) as { result: CallToolResult }).result;
}
