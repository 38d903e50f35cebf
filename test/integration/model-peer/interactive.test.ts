import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isRoot, prepareClaudeHome, readTranscript } from "../../helpers/claude.js";
import { startClaudeInTmux } from "../../helpers/claude-tmux.js";
import { poll } from "../../helpers/poll.js";
import { bash, callTools, say, startModelPeer, textParts } from "../../peers/model/index.js";

describe.skipIf(!isRoot)("real Claude Code CLI in tmux (root only: it runs as the thopter user)", () => {
  it("starts on a prompt with no dialog, asks the user a question, and takes the answer typed into tmux", async () => {
    const peer = await startModelPeer({
      scenario: [
        callTools(bash("echo hi > out.txt")),
        say("Which colour should the fence be?"),
        ({ userText }) => say(`Painting the fence ${userText}.`),
      ],
    });
    const home = await prepareClaudeHome();
    const cli = await startClaudeInTmux(home, peer.url, { prompt: "Paint the fence" });
    try {
      // No onboarding, trust, API-key or bypass-permissions dialog: the prompt reaches the model on its own.
      await cli.explain(peer.waitForTurn(1, 45_000));
      await cli.waitForPane(/Which colour should the fence be\?/);
      expect(await readFile(join(home.cwd, "out.txt"), "utf8")).toBe("hi\n");
      // The model ended its turn with a question: the CLI waits for the user and asks the model nothing more.
      await expect(peer.waitForTurn(2, 1_500)).rejects.toThrow(/no request for turn 2/);

      await cli.type("dark green");
      const answer = await cli.explain(peer.waitForTurn(2));
      const lastUser = answer.body?.messages.at(-1);
      expect(lastUser?.role).toBe("user");
      expect(lastUser && textParts(lastUser)).toContain("dark green");
      await cli.waitForPane(/Painting the fence dark green\./);
      await peer.done;

      expect(peer.mainRequests().map((request) => request.turn)).toEqual([0, 1, 2]);
      expect(peer.problems).toEqual([]);
      // The transcript line of a reply lands shortly after the screen shows it.
      await poll(
        async () =>
          (await readFile(cli.transcriptPath, "utf8")).includes("Painting the fence dark green.") ? true : undefined,
        10_000,
        () => `the final reply in ${cli.transcriptPath}`,
      );
      const typed = (await readTranscript(cli.transcriptPath)).filter((line) => line.type === "user");
      expect(typed.map((line) => (line.message as { content: unknown }).content)).toContain("dark green");
    } finally {
      await cli.stop();
      await peer.close();
      await home.cleanup();
    }
  }, 90_000);

  it("stops at the workspace trust dialog when trust is not pre-accepted (what the prepared home avoids)", async () => {
    const peer = await startModelPeer({ scenario: [say("unreachable")] });
    const home = await prepareClaudeHome({ globalConfig: { projects: {} } });
    const cli = await startClaudeInTmux(home, peer.url, { prompt: "Paint the fence" });
    try {
      await cli.waitForPane(/trust this folder/);
      expect(peer.mainRequests()).toEqual([]);
    } finally {
      await cli.stop();
      await peer.close();
      await home.cleanup();
    }
  }, 60_000);
});
