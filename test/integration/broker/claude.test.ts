import { readFileSync } from "node:fs";
import { mcpServerEntry } from "@thopter/broker-mcp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareClaudeHome, runClaude, runClaudeHeadless } from "../../helpers/claude.js";
import { bash, callTools, loadTools, mcpTool, say, startModelPeer } from "../../peers/model/index.js";
import { isRoot, REPO, startWorld, type World } from "./harness.js";

// The real, pinned Claude Code CLI as `thopter`, driven by the scripted model peer, using the MCP config the broker
// itself wrote for the agent (main.ts → writeAgentMcpConfig).
describe.skipIf(!isRoot)("the real Claude Code CLI uses the broker (root only: the CLI runs as `thopter`)", () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ process: true });
    await w.git("config", "user.name", "Thopter Agent");
    await w.git("config", "user.email", "agent@example.invalid");
  });
  afterAll(() => w?.close());

  it("commits, calls mcp__thopter__push_branch then mcp__thopter__report_status: the branch lands, the report arrives", async () => {
    const model = await startModelPeer({
      scenario: [
        callTools(loadTools("mcp__thopter__push_branch", "mcp__thopter__report_status")),
        callTools(
          bash("echo 'hello from claude' > greeting.txt && git add greeting.txt && git commit -qm 'Add greeting'"),
        ),
        callTools(mcpTool("thopter", "push_branch", {})),
        ({ toolResults }) =>
          callTools(mcpTool("thopter", "report_status", { state: "done", summary: `Pushed. ${toolResults[0]?.text}` })),
        say("All done."),
      ],
    });
    const home = await prepareClaudeHome({ cwd: w.workspace });
    try {
      const mcpConfig = w.config.agentMcpConfigPath!;
      const run = await runClaudeHeadless(home, model.url, "Work on the issue", {
        extraArgs: ["--mcp-config", mcpConfig, "--strict-mcp-config"],
        timeoutMs: 120_000,
      });
      expect(run.code, run.stderr).toBe(0);
      expect(run.events[0]).toMatchObject({ type: "system", mcp_servers: [{ name: "thopter", status: "connected" }] });
      const results = model.toolResults();
      const push = results.find((r) => r.name === "mcp__thopter__push_branch");
      expect(push, JSON.stringify(results)).toMatchObject({ isError: false });
      const head = (await w.git("rev-parse", "HEAD")).trim();
      expect(push!.text).toContain(w.workBranch);
      expect(push!.text).toContain(head);
      expect(results.find((r) => r.name === "mcp__thopter__report_status")).toMatchObject({ isError: false });

      expect((await w.peer.log(REPO, w.workBranch))[0]).toMatchObject({ sha: head, subject: "Add greeting" });
      expect(await w.peer.readFile(REPO, w.workBranch, "greeting.txt")).toBe("hello from claude\n");
      await w.receiver.waitFor((r) => r.some((x) => x.body.kind === "status" && x.body.state === "done"));
      const done = w.receiver.reports.find((x) => x.body.kind === "status" && x.body.state === "done")!;
      expect(done.body).toMatchObject({ branch: w.workBranch });
      expect(JSON.stringify(done.body)).toContain(head);
      expect(model.problems).toEqual([]);
    } finally {
      await model.close();
      await home.cleanup();
    }
  }, 180_000);

  it("`claude mcp list` shows the broker connected with the entry the wiring writes", async () => {
    const entry = JSON.parse(readFileSync(w.config.agentMcpConfigPath!, "utf8")).mcpServers.thopter;
    expect(entry).toEqual(mcpServerEntry(w.broker.url, w.mcpKey));
    const model = await startModelPeer({ scenario: [] });
    const home = await prepareClaudeHome({ mcpServers: { thopter: entry } });
    try {
      const listed = await runClaude(home, model.url, ["mcp", "list"]);
      expect(listed.stdout).toMatch(new RegExp(`thopter: ${w.broker.url} \\(HTTP\\) - ✔ Connected`));
    } finally {
      await model.close();
      await home.cleanup();
    }
  }, 90_000);
});
