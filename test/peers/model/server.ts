import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pino, { type Logger } from "pino";
import { z } from "zod";
import type { PeerAddress } from "../github/peer-options.js";
import { isMainLoop, isSummaryRequest, sampleFor, structuredOutputSchema } from "./classify.js";
import {
  CountTokensRequest,
  type Message,
  MessagesRequest,
  textParts,
  toolResultBlocks,
  toolResultText,
} from "./messages-schema.js";
import {
  type AssistantMessage,
  apiError,
  assistantMessage,
  estimateTokens,
  sseEvents,
  type Usage,
} from "./response.js";
import type { Reply, Scenario, ToolCall, ToolResult, TurnContext } from "./scenario.js";
import { toolCallProblems } from "./tool-calls.js";

export interface ModelPeerOptions {
  scenario: Scenario;
  /** What the model says once the scenario has run out (ends its turn). */
  finalText?: string;
  /** Answer for side requests (titles, summaries…); they never consume scenario turns. */
  auxiliaryText?: string;
  /** Token counts every response reports, instead of estimates (each response's `usage` is in `requests`). */
  usage?: Partial<Usage>;
  logger?: Logger;
  /** Where to listen and the address its URL names (default 127.0.0.1): containers reach the host elsewhere. */
  address?: PeerAddress;
}

/** One HTTP request the peer received, as validated and answered. */
export interface RecordedRequest {
  kind: "main" | "auxiliary" | "count_tokens" | "other";
  method: string;
  path: string;
  /** As received, e.g. `x-api-key` (which credential the CLI used) and `x-claude-code-session-id`. Never logged. */
  headers: IncomingHttpHeaders;
  /** The validated body (`MessagesRequest` for messages calls), or undefined. */
  body?: MessagesRequest;
  /** For main-loop requests: the scenario turn index answered (≥ scenario length once it ran out). */
  turn?: number;
  /** The message the peer answered with, for messages calls. */
  response?: AssistantMessage;
  at: number;
}

export interface ModelPeer {
  /** Base URL for `ANTHROPIC_BASE_URL`. */
  url: string;
  /** Every request, in arrival order. */
  requests: RecordedRequest[];
  /** Bad requests and failing turns, each a sentence; a healthy run leaves this empty. */
  problems: string[];
  /** Main-loop requests only. */
  mainRequests(): RecordedRequest[];
  /** Every tool result Claude Code sent back, once each, in order. */
  toolResults(): ToolResult[];
  /** Resolves with the first main-loop request for turn `n` (0-based); `n = scenario.length` is the one after the last. */
  waitForTurn(n: number, timeoutMs?: number): Promise<RecordedRequest>;
  /** Resolves once the scenario has run out and the model has ended its turn. */
  done: Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_WAIT_MS = 60_000;

/** Assistant messages already in a conversation: the turn it asks for, counted from its start. */
const repliesIn = (messages: Message[]): number => messages.filter((message) => message.role === "assistant").length;

/** The user's typed text since the last assistant message (empty if that message only carries tool results). */
function userTextAfterLastReply(messages: Message[]): string {
  const lastAssistant = messages.map((message) => message.role).lastIndexOf("assistant");
  return messages
    .slice(lastAssistant + 1)
    .filter((message) => message.role === "user")
    .flatMap(textParts)
    .filter((text) => !text.startsWith("<system-reminder>"))
    .join("\n");
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text === "" ? undefined : JSON.parse(text);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "request-id": `req_peer_${Date.now()}` });
  res.end(JSON.stringify(body));
}

/** Start a scripted Anthropic Messages API on 127.0.0.1 (port 0; see `address`) for the real Claude Code CLI to talk to. */
export async function startModelPeer(options: ModelPeerOptions): Promise<ModelPeer> {
  const { scenario } = options;
  const log = options.logger ?? pino({ name: "model-peer", level: process.env.LOG_LEVEL ?? "silent" });
  const requests: RecordedRequest[] = [];
  const problems: string[] = [];
  const calls = new Map<string, ToolCall>();
  const results = new Map<string, ToolResult>();
  const waiters: Array<() => void> = [];
  /**
   * A main-loop request asks for turn `turnOffset + replies already in its conversation`. Counting the conversation
   * rather than requests keeps Claude Code's retries (same messages, sometimes one more system turn) on the same
   * turn. Compaction restarts the conversation from a summary: the turns go on after the last one answered.
   */
  let turnOffset = 0;
  let lastAnswered = -1;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });

  const record = (req: IncomingMessage, entry: Omit<RecordedRequest, "method" | "path" | "headers" | "at">): void => {
    const { pathname } = new URL(req.url ?? "/", "http://peer");
    requests.push({ method: req.method ?? "GET", path: pathname, headers: req.headers, ...entry, at: Date.now() });
    for (const wake of waiters.splice(0)) wake();
  };

  const problem = (res: ServerResponse, status: 400 | 404, message: string): void => {
    problems.push(message);
    log.warn({ problem: message }, "model peer refused a request");
    sendJson(res, status, apiError(status === 404 ? "not_found_error" : "invalid_request_error", message));
  };

  /** Join the tool results a request carries with the calls the peer made. */
  function collectResults(messages: Message[], turn: number): ToolResult[] {
    const last = messages.at(-1);
    if (last?.role !== "user") return [];
    return toolResultBlocks(last).map((block) => {
      const call = calls.get(block.tool_use_id);
      const result: ToolResult = {
        toolUseId: block.tool_use_id,
        name: call?.name ?? "(unknown tool_use_id)",
        input: call?.input ?? {},
        text: toolResultText(block),
        isError: block.is_error === true,
        turn,
      };
      if (!results.has(result.toolUseId)) results.set(result.toolUseId, result);
      return result;
    });
  }

  /** Side requests get a short answer in the form they ask for: JSON for structured output, tags for a summary. */
  function sideAnswer(request: MessagesRequest): string {
    const text = options.auxiliaryText ?? "Scripted session";
    const schema = structuredOutputSchema(request);
    if (schema) return JSON.stringify(sampleFor(schema, text));
    if (isSummaryRequest(request)) return `<analysis>${text}</analysis>\n<summary>${text}</summary>`;
    return text;
  }

  async function mainReply(request: MessagesRequest, turn: number): Promise<Reply> {
    const toolResults = collectResults(request.messages, turn);
    const step = scenario[turn];
    if (step === undefined) return { text: options.finalText ?? "All done." };
    if (typeof step !== "function") return step;
    const context: TurnContext = {
      turn,
      request,
      toolResults,
      userText: userTextAfterLastReply(request.messages),
    };
    return step(context);
  }

  function respond(res: ServerResponse, request: MessagesRequest, message: AssistantMessage): void {
    if (request.stream !== true) {
      sendJson(res, 200, message);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    res.end(sseEvents(message));
  }

  async function handleMessages(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const parsed = MessagesRequest.safeParse(await readJson(req));
    if (!parsed.success) {
      return problem(res, 400, `POST ${path}: not a Messages API request: ${z.prettifyError(parsed.error)}`);
    }
    const request = parsed.data;
    const inputTokens = estimateTokens(request.messages);
    if (isSummaryRequest(request)) turnOffset = lastAnswered + 1;
    if (!isMainLoop(request)) {
      const message = assistantMessage({ text: sideAnswer(request) }, request.model, inputTokens, options.usage);
      record(req, { kind: "auxiliary", body: request, response: message });
      return respond(res, request, message);
    }
    const turn = turnOffset + repliesIn(request.messages);
    let reply: Reply;
    try {
      reply = await mainReply(request, turn);
    } catch (error) {
      return problem(res, 400, `scenario turn ${turn} failed: ${(error as Error).message}`);
    }
    if (reply.error) {
      log.info({ turn, status: reply.error.status }, "main turn fails on purpose");
      record(req, { kind: "main", body: request, turn });
      return sendJson(res, reply.error.status, apiError(reply.error.type, reply.error.message));
    }
    problems.push(...toolCallProblems(request, turn, reply.toolCalls ?? []));
    const message = assistantMessage(reply, request.model, inputTokens, options.usage);
    for (const block of message.content) if (block.type === "tool_use") calls.set(block.id, block);
    lastAnswered = Math.max(lastAnswered, turn);
    log.info({ turn, stop: message.stop_reason, tools: reply.toolCalls?.map((call) => call.name) }, "main turn");
    record(req, { kind: "main", body: request, turn, response: message });
    respond(res, request, message);
    if (message.stop_reason === "end_turn" && turn >= scenario.length - 1) resolveDone();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname } = new URL(req.url ?? "/", "http://peer");
    const method = req.method ?? "GET";
    // `/` is what the API's own clients probe; `/api/hello` is Claude Code's connectivity check.
    if ((method === "HEAD" || method === "GET") && (pathname === "/" || pathname === "/api/hello")) {
      record(req, { kind: "other" });
      res.writeHead(200).end();
      return;
    }
    if (method === "POST" && pathname === "/v1/messages") return handleMessages(req, res, pathname);
    if (method === "POST" && pathname === "/v1/messages/count_tokens") {
      const parsed = CountTokensRequest.safeParse(await readJson(req));
      if (!parsed.success) return problem(res, 400, `POST ${pathname}: ${z.prettifyError(parsed.error)}`);
      record(req, { kind: "count_tokens", body: parsed.data as MessagesRequest });
      return sendJson(res, 200, { input_tokens: estimateTokens(parsed.data.messages) });
    }
    record(req, { kind: "other" });
    problem(res, 404, `${method} ${pathname} is not part of the Messages API this peer serves`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      log.error({ err: error }, "model peer failed");
      if (!res.headersSent) problem(res, 400, `${req.method} ${req.url}: ${error.message}`);
    });
  });
  const address = options.address ?? { listen: "127.0.0.1", advertise: "127.0.0.1" };
  server.listen(0, address.listen);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;

  const mainRequests = () => requests.filter((entry) => entry.kind === "main");

  function waitForTurn(n: number, timeoutMs = DEFAULT_WAIT_MS): Promise<RecordedRequest> {
    return new Promise((resolve, reject) => {
      let waiting = true;
      const timer = setTimeout(() => {
        waiting = false;
        const seen = mainRequests().map((entry) => entry.turn);
        reject(new Error(`model peer: no request for turn ${n} within ${timeoutMs} ms (main turns seen: [${seen}])`));
      }, timeoutMs);
      const check = (): void => {
        if (!waiting) return;
        const found = mainRequests().find((entry) => entry.turn === n);
        if (!found) return void waiters.push(check);
        clearTimeout(timer);
        resolve(found);
      };
      check();
    });
  }

  return {
    url: `http://${address.advertise}:${port}`,
    requests,
    problems,
    mainRequests,
    toolResults: () => [...results.values()],
    waitForTurn,
    done,
    close: async () => {
      if (!server.listening) return;
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
