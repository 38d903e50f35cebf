import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findTranscript, isRoot, prepareClaudeHome, readTranscript, runClaudeHeadless } from "../../helpers/claude.js";
import { bash, callTools, editFile, say, startModelPeer, writeFile } from "../../peers/model/index.js";

/** The tool_use ids of assistant lines and the tool_result ids of user lines in a transcript. */
function toolPairs(lines: Array<Record<string, unknown>>) {
  const blocks = (type: string) =>
    lines
      .filter((line) => line.type === type)
      .flatMap((line) => (line.message as { content?: unknown }).content)
      .filter((block): block is Record<string, string> => typeof block === "object" && block !== null);
  return {
    uses: blocks("assistant").flatMap((block) => (block.type === "tool_use" ? [block.id] : [])),
    results: blocks("user").flatMap((block) => (block.type === "tool_result" ? [block.tool_use_id] : [])),
  };
}

describe.skipIf(!isRoot)("real Claude Code CLI, headless -p (root only: it runs as the thopter user)", () => {
  it("runs the scenario's Bash, Write and Edit for real and writes a transcript with every tool pair", async () => {
    const home = await prepareClaudeHome();
    const notes = join(home.cwd, "notes.md");
    const peer = await startModelPeer({
      scenario: [
        callTools(bash("echo hi > out.txt")),
        callTools(writeFile(notes, "one\ntwo\n")),
        callTools(editFile(notes, "two", "three")),
        say("Finished the files."),
      ],
    });
    try {
      const run = await runClaudeHeadless(home, peer.url, "Make the files");
      expect(run.code, run.stderr).toBe(0);
      await peer.done;

      expect(await readFile(join(home.cwd, "out.txt"), "utf8")).toBe("hi\n");
      expect(await readFile(notes, "utf8")).toBe("one\nthree\n");
      const agentUid = Number((await stat(home.home)).uid);
      expect((await stat(join(home.cwd, "out.txt"))).uid).toBe(agentUid);

      const results = peer.toolResults();
      expect(results.map((result) => [result.name, result.isError, result.turn])).toEqual([
        ["Bash", false, 1],
        ["Write", false, 2],
        ["Edit", false, 3],
      ]);
      expect(peer.problems).toEqual([]);
      for (const request of peer.mainRequests()) {
        expect(request.headers).toMatchObject({ "x-api-key": home.apiKey, "x-claude-code-session-id": run.sessionId });
      }
      expect(run.events.at(-1)).toMatchObject({ type: "result", subtype: "success", result: "Finished the files." });

      expect(await findTranscript(home, run.sessionId)).toBe(run.transcriptPath);
      const pairs = toolPairs(await readTranscript(run.transcriptPath));
      const ids = results.map((result) => result.toolUseId);
      expect(pairs.uses).toEqual(ids);
      expect(pairs.results).toEqual(ids);
    } finally {
      await peer.close();
      await home.cleanup();
    }
  }, 90_000);
});
