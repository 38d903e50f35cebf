import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isRoot, mcpConfigFlags, prepareClaudeHome, runClaude, runClaudeHeadless } from "../../helpers/claude.js";
import { callTools, loadTools, mcpTool, say, startModelPeer } from "../../peers/model/index.js";
import { startEchoMcpServer } from "./echo-mcp-server.js";

describe.skipIf(!isRoot)(
  "real Claude Code CLI with an HTTP MCP server (root only: it runs as the thopter user)",
  () => {
    it("calls mcp__thopter__echo on the real server and hands its result back to the model", async () => {
      const mcp = await startEchoMcpServer(randomUUID());
      const word = `ping-${randomUUID()}`;
      const peer = await startModelPeer({
        scenario: [
          callTools(loadTools("mcp__thopter__echo")),
          callTools(mcpTool("thopter", "echo", { text: word })),
          ({ toolResults }) => say(`The server said: ${toolResults[0]?.text}`),
        ],
      });
      const thopter = { type: "http" as const, url: mcp.url, headers: { Authorization: `Bearer ${mcp.token}` } };
      const home = await prepareClaudeHome();
      try {
        const run = await runClaudeHeadless(home, peer.url, "Echo something", {
          extraArgs: await mcpConfigFlags(home, { thopter }),
        });
        expect(run.code, run.stderr).toBe(0);
        expect(run.events[0]).toMatchObject({
          type: "system",
          mcp_servers: [{ name: "thopter", status: "connected" }],
        });

        expect(mcp.calls).toEqual([word]);
        expect(peer.toolResults()).toMatchObject([
          { name: "ToolSearch", isError: false },
          { name: "mcp__thopter__echo", input: { text: word }, text: `echo: ${word}`, isError: false },
        ]);
        // Once loaded, the tool comes with the schema the server declared, and the peer checked the call against it.
        const loaded = (await peer.waitForTurn(2)).body?.tools?.find((tool) => tool.name === "mcp__thopter__echo");
        expect(loaded).toMatchObject({
          input_schema: { properties: { text: { type: "string" } }, required: ["text"] },
        });
        expect(run.events.at(-1)).toMatchObject({ type: "result", result: `The server said: echo: ${word}` });
        expect(peer.problems).toEqual([]);
      } finally {
        await peer.close();
        await mcp.close();
        await home.cleanup();
      }
    }, 90_000);

    it("`claude mcp list` shows a user-scope server as connected only with the right bearer key", async () => {
      const mcp = await startEchoMcpServer(randomUUID());
      const peer = await startModelPeer({ scenario: [] });
      const server = (key: string) => ({
        type: "http" as const,
        url: mcp.url,
        headers: { Authorization: `Bearer ${key}` },
      });
      const good = await prepareClaudeHome({ mcpServers: { thopter: server(mcp.token) } });
      const bad = await prepareClaudeHome({ mcpServers: { thopter: server("not-the-key") } });
      try {
        const [listed, refused] = await Promise.all([
          runClaude(good, peer.url, ["mcp", "list"]),
          runClaude(bad, peer.url, ["mcp", "list"]),
        ]);
        expect(listed.stdout).toMatch(new RegExp(`thopter: ${mcp.url} \\(HTTP\\) - ✔ Connected`));
        expect(refused.stdout).toMatch(/thopter: /);
        expect(refused.stdout).not.toMatch(/Connected/);
        expect(mcp.calls).toEqual([]);
      } finally {
        await peer.close();
        await mcp.close();
        await Promise.all([good.cleanup(), bad.cleanup()]);
      }
    }, 90_000);
  },
);
