import Anthropic from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import {
  bash,
  callTools,
  failWith,
  type ModelPeer,
  mcpTool,
  type Scenario,
  say,
  startModelPeer,
} from "../../peers/model/index.js";

// The official Anthropic client checks the peer's wire format (SSE framing, event order, JSON bodies, errors);
// the real Claude Code CLI checks it again in the root-only tests beside this file.

const tools = [
  {
    name: "Bash",
    description: "Run a command",
    input_schema: { type: "object" as const, properties: { command: { type: "string" } }, required: ["command"] },
  },
  // MCP tools carry draft-07 schemas (Claude Code's own say 2020-12): the peer checks calls against both.
  {
    name: "mcp__thopter__echo",
    description: "Echo",
    input_schema: {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object" as const,
      properties: { text: { type: "string" } },
      required: ["text"],
    },
  },
];

let peer: ModelPeer;
let client: Anthropic;
afterEach(() => peer?.close());

async function start(scenario: Scenario): Promise<void> {
  peer = await startModelPeer({ scenario });
  client = new Anthropic({ baseURL: peer.url, apiKey: "sk-ant-test", maxRetries: 0 });
}

/** One non-streaming main-loop request (it offers tools) carrying this conversation. */
const ask = (messages: Anthropic.MessageParam[]) =>
  client.messages.create({ model: "claude-test", max_tokens: 64, tools, messages });

describe("model peer", () => {
  it("streams text and tool calls the way the official client parses them", async () => {
    await start([
      {
        text: "Let me look.",
        toolCalls: [bash("ls -la"), mcpTool("thopter", "echo", { text: 'a ünïcode "quoted" text' })],
      },
    ]);
    const stream = client.messages.stream({
      model: "claude-test",
      max_tokens: 1024,
      tools,
      messages: [{ role: "user", content: "Look around" }],
    });
    const seen: string[] = [];
    stream.on("streamEvent", (event) => seen.push(event.type));
    const message = await stream.finalMessage();

    expect(message.stop_reason).toBe("tool_use");
    expect(message.content.map((block) => block.type)).toEqual(["text", "tool_use", "tool_use"]);
    expect(message.content[0]).toMatchObject({ type: "text", text: "Let me look." });
    expect(message.content[1]).toMatchObject({ name: "Bash", input: { command: "ls -la" } });
    expect(message.content[2]).toMatchObject({
      name: "mcp__thopter__echo",
      input: { text: 'a ünïcode "quoted" text' },
    });
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(seen[0]).toBe("message_start");
    expect(seen.slice(-2)).toEqual(["message_delta", "message_stop"]);
    expect(seen.filter((type) => type === "content_block_start")).toHaveLength(3);
    expect(peer.problems).toEqual([]);
  });

  it("answers non-streaming requests with the same message as JSON", async () => {
    await start([say("Plain answer.")]);
    const message = await ask([{ role: "user", content: "Hi" }]);
    expect(message).toMatchObject({ role: "assistant", stop_reason: "end_turn", content: [{ text: "Plain answer." }] });
    await peer.done;
  });

  it("hands a turn function the previous tool results and joins them with the calls it made", async () => {
    await start([callTools(bash("echo hi")), ({ toolResults }) => say(`The command printed ${toolResults[0]?.text}`)]);
    const first = await ask([{ role: "user", content: "Run it" }]);
    const call = first.content.find((block) => block.type === "tool_use");
    if (call?.type !== "tool_use") throw new Error("turn 0 made no tool call");
    const second = await ask([
      { role: "user", content: "Run it" },
      { role: "assistant", content: first.content },
      {
        role: "user",
        content: [{ type: "tool_result", tool_use_id: call.id, content: [{ type: "text", text: "hi" }] }],
      },
    ]);
    expect(second.content).toEqual([{ type: "text", text: "The command printed hi" }]);
    expect(peer.toolResults()).toEqual([
      { toolUseId: call.id, name: "Bash", input: call.input, text: "hi", isError: false, turn: 1 },
    ]);
    expect((await peer.waitForTurn(1)).response?.content).toEqual(second.content);
    await peer.done;
  });

  it("keeps a retried request on the same turn and ends the model's turn once the scenario has run out", async () => {
    await start([say("Only turn.")]);
    const go = () => ask([{ role: "user", content: "Go" }]);
    expect((await go()).content).toEqual([{ type: "text", text: "Only turn." }]);
    expect((await go()).content).toEqual([{ type: "text", text: "Only turn." }]);
    const after = await ask([
      { role: "user", content: "Go" },
      { role: "assistant", content: "Only turn." },
      { role: "user", content: "And now?" },
    ]);
    expect(after).toMatchObject({ stop_reason: "end_turn", content: [{ text: "All done." }] });
    expect(peer.mainRequests().map((request) => request.turn)).toEqual([0, 0, 1]);
  });

  it("goes on after the last answered turn when Claude Code compacts the conversation into a summary", async () => {
    await start([say("One."), say("Two."), say("Three.")]);
    const before: Anthropic.MessageParam[] = [
      { role: "user", content: "Count" },
      { role: "assistant", content: "One." },
      { role: "user", content: "Go on" },
    ];
    expect((await ask(before.slice(0, 1))).content).toEqual([{ type: "text", text: "One." }]);
    expect((await ask(before)).content).toEqual([{ type: "text", text: "Two." }]);
    const summary = await ask([
      ...before,
      { role: "assistant", content: "Two." },
      {
        role: "user",
        content:
          "CRITICAL: Respond with TEXT ONLY.\n\nYour task is to create a detailed summary of the conversation so far, …",
      },
    ]);
    expect(summary.content).toEqual([
      { type: "text", text: "<analysis>Scripted session</analysis>\n<summary>Scripted session</summary>" },
    ]);
    const after = await ask([{ role: "user", content: "This session continues from a summary: counting. Go on" }]);
    expect(after.content).toEqual([{ type: "text", text: "Three." }]);
    expect(peer.requests.map((request) => [request.kind, request.turn])).toEqual([
      ["main", 0],
      ["main", 1],
      ["auxiliary", undefined],
      ["main", 2],
    ]);
  });

  it("fails a turn on purpose with the API's own error shape", async () => {
    await start([failWith(529, "overloaded_error", "Overloaded")]);
    await expect(ask([{ role: "user", content: "Go" }])).rejects.toMatchObject({
      status: 529,
      error: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
    });
    expect(peer.mainRequests().map((request) => request.turn)).toEqual([0]);
    expect(peer.problems).toEqual([]);
  });

  it("answers side requests (no tools, structured output) without consuming a turn", async () => {
    await start([say("Main turn.")]);
    const response = await fetch(`${peer.url}/v1/messages?beta=true`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "claude-test",
        max_tokens: 64,
        tools: [],
        system: [{ type: "text", text: "You are naming a coding session…" }],
        messages: [{ role: "user", content: "<session>Paint the fence</session>" }],
        output_config: {
          format: { type: "json_schema", schema: { type: "object", properties: { title: { type: "string" } } } },
        },
      }),
    });
    const body = (await response.json()) as Anthropic.Message;
    const text = body.content[0]?.type === "text" ? body.content[0].text : "";
    expect(JSON.parse(text)).toEqual({ title: "Scripted session" });
    expect(peer.requests.map((request) => request.kind)).toEqual(["auxiliary"]);
    await expect(peer.waitForTurn(0, 200)).rejects.toThrow(/no request for turn 0 within 200 ms/);
  });

  it("counts tokens and answers the connectivity probes", async () => {
    await start([]);
    const count = await client.messages.countTokens({
      model: "claude-test",
      messages: [{ role: "user", content: "How long is this?" }],
    });
    expect(count.input_tokens).toBeGreaterThan(0);
    expect((await fetch(peer.url, { method: "HEAD" })).status).toBe(200);
    expect((await fetch(`${peer.url}/api/hello`, { method: "HEAD" })).status).toBe(200);
  });

  it("refuses a malformed request with an invalid_request_error naming the field, and records it", async () => {
    await start([say("unused")]);
    const refused = client.messages.create({
      model: "claude-test",
      max_tokens: 0,
      messages: [{ role: "user", content: [{ type: "tool_result" } as never] }],
    });
    await expect(refused).rejects.toMatchObject({ status: 400, error: { error: { type: "invalid_request_error" } } });
    expect(peer.problems).toHaveLength(1);
    expect(peer.problems[0]).toMatch(/max_tokens/);
    expect(peer.problems[0]).toMatch(/tool_use_id/);
    expect(peer.requests).toEqual([]);
  });

  it("reports scenario tool calls Claude Code did not offer or would refuse, and a turn that throws", async () => {
    await start([
      callTools(mcpTool("github", "push"), { name: "Bash", input: { cmd: "ls" } }),
      () => {
        throw new Error("scripted failure");
      },
    ]);
    await ask([{ role: "user", content: "Push" }]);
    const failing = ask([
      { role: "user", content: "Push" },
      { role: "assistant", content: "…" },
      { role: "user", content: "Again" },
    ]);
    await expect(failing).rejects.toMatchObject({ status: 400 });
    expect(peer.problems).toEqual([
      "turn 0 calls mcp__github__push, which Claude Code did not offer in this request",
      "turn 0 calls Bash with input its schema refuses: data must have required property 'command'",
      "scenario turn 1 failed: scripted failure",
    ]);
  });
});
