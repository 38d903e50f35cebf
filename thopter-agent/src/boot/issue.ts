import type { IssueSnapshot } from "../init/plan.js";
import type { ThopterJob } from "./job.js";

/**
 * Calls the broker's `get_issue` tool over its Streamable HTTP endpoint (stateless: one JSON-RPC POST), with the
 * agent's MCP key: the same view of the issue Claude gets.
 */
export async function fetchIssue(brokerUrl: string, mcpKey: string): Promise<IssueSnapshot> {
  const res = await fetch(brokerUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${mcpKey}`,
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "get_issue", arguments: {} } }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`get_issue answered HTTP ${res.status}`);
  const message = rpcMessage(text, res.headers.get("content-type") ?? "");
  const result = message.result as { isError?: boolean; structuredContent?: Omit<IssueSnapshot, "source"> } | undefined;
  if (!result || result.isError || !result.structuredContent) {
    throw new Error(`get_issue failed: ${JSON.stringify(message.error ?? result).slice(0, 300)}`);
  }
  return { ...result.structuredContent, source: "get_issue" };
}

/** The JSON-RPC answer, sent as plain JSON or as the `data:` of an SSE event. */
function rpcMessage(text: string, contentType: string): { result?: unknown; error?: unknown } {
  const json = contentType.includes("text/event-stream")
    ? text
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trim())
        .at(-1)
    : text;
  try {
    return JSON.parse(json ?? "") as { result?: unknown };
  } catch {
    throw new Error(`get_issue answered something that is not JSON-RPC: ${text.slice(0, 200)}`);
  }
}

/** What the job file alone says about the issue, when the broker cannot tell more. */
export function issueFromJob(job: ThopterJob): IssueSnapshot {
  return { number: job.issueNumber, title: job.issueTitle, body: job.instructions, comments: [], source: "job" };
}
