import { execFileSync } from "node:child_process";
import { readFile as readText } from "node:fs/promises";
import { join } from "node:path";
import { mintAccessToken } from "@thopter/agent/access/index";
import { startSessionLogServer } from "@thopter/agent/session-log/index";
import { pino } from "pino";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { launchBrowser } from "../../helpers/browser.js";
import { type ClaudeHome, isRoot, prepareClaudeHome, readTranscript, runClaudeHeadless } from "../../helpers/claude.js";
import { startClaudeInTmux } from "../../helpers/claude-tmux.js";
import { poll } from "../../helpers/poll.js";
import { bash, callTools, editFile, readFile, say, startModelPeer, writeFile } from "../../peers/model/index.js";
import { AGENT_USER } from "../../setup/global.js";
import { schemaLineTypes } from "./transcripts.js";

const KEY = "real-cli-session-log-key-0123456789abcd";

/** The session-log server over the home's projects folder (started before the CLI: it waits for the folder). */
function logServer(home: ClaudeHome) {
  return startSessionLogServer({
    key: KEY,
    thopterId: "t-cli",
    dir: join(home.home, ".claude", "projects"),
    // The transcript is the agent's file: only files `thopter` owns are shown.
    owner: Number(execFileSync("id", ["-u", AGENT_USER], { encoding: "utf8" }).trim()),
    log: pino({ level: "silent" }),
  });
}

function logUrl(server: { url: string }): string {
  const exp = Math.floor(Date.now() / 1000) + 600;
  return `${server.url}/?token=${mintAccessToken(KEY, { thopterId: "t-cli", scope: "log", exp })}`;
}

/**
 * Every line of the transcript is on the page, as its own entry or folded into a collapsed "n other entries" group;
 * the bookkeeping the pinned CLI writes (types the published schemas lack) is folded quietly, never "malformed".
 */
async function expectReadsCleanly(page: Page, lines: Array<Record<string, unknown>>): Promise<void> {
  await expect.poll(() => page.locator("[data-line]").count(), { timeout: 10_000 }).toBe(lines.length);
  const known = schemaLineTypes();
  const unknown = lines.filter((line) => !known.has(line.type as string));
  expect(unknown.length).toBeGreaterThan(0);
  expect(await page.locator(".entry.raw").count()).toBe(0);
  expect(await page.getByText("malformed").count()).toBe(0);
  expect(await page.locator(".entry.other .other-line").count()).toBe(unknown.length);
  expect(await page.locator(".entry.other[open]").count()).toBe(0);
}

describe.skipIf(!isRoot)(
  "session log of the real Claude Code CLI (root only: the CLI runs as the thopter user)",
  () => {
    it("follows the transcript the CLI writes, live, with every tool call and its result beside it", async () => {
      const home = await prepareClaudeHome();
      const peer = await startModelPeer({
        scenario: [
          callTools(bash("echo '<script>window.pwned = 1</script>'")),
          callTools(bash("printf 'one\\ntwo\\n'"), bash("ls -la")),
          say("All <b>done</b>."),
        ],
      });
      const server = await logServer(home);
      const browser = await launchBrowser();
      try {
        const page = await browser.newPage();
        await page.goto(logUrl(server));
        const run = await runClaudeHeadless(home, peer.url, "Run the commands");
        expect(run.code, run.stderr).toBe(0);
        await peer.done;
        const lines = await readTranscript(run.transcriptPath);
        await expectReadsCleanly(page, lines);
        expect(lines.filter((line) => line.type === "assistant").length).toBeGreaterThanOrEqual(4);
        const calls = page.locator("details.tool");
        expect(await calls.count()).toBe(3);
        for (const id of peer.toolResults().map((r) => r.toolUseId)) {
          await expect
            .poll(() => page.locator(`details[data-tool-use="${id}"] [data-result-for="${id}"]`).count())
            .toBe(1);
        }
        expect(await page.locator(".tool-result", { hasText: "<script>window.pwned = 1</script>" }).count()).toBe(1);
        expect(await page.evaluate("typeof window.pwned")).toBe("undefined");
        expect(await page.locator(".entry.assistant .text", { hasText: "All <b>done</b>." }).count()).toBe(1);
        await expect.poll(() => page.locator("section h2 .totals").textContent()).toMatch(/turns/);
      } finally {
        await browser.close();
        await server.close();
        await peer.close();
        await home.cleanup();
      }
    }, 120_000);

    it("reads an interactive session (files written, read, edited, a question answered) with nothing malformed", async () => {
      const home = await prepareClaudeHome();
      const peer = await startModelPeer({
        scenario: [
          callTools(writeFile("add.js", "module.exports = (a, b) => a + '' + b;\n")),
          callTools(readFile("add.js")),
          callTools(editFile("add.js", "a + '' + b", "a + b")),
          callTools(bash("node -e \"console.log(require('./add.js')(1, 2))\"")),
          say("It adds numbers now. Should I also handle BigInt?"),
          () => say("Leaving BigInt out."),
        ],
      });
      const server = await logServer(home);
      const browser = await launchBrowser();
      const cli = await startClaudeInTmux(home, peer.url, { prompt: "Fix add.js" });
      try {
        await cli.explain(cli.waitForPane(/Should I also handle BigInt\?/, 60_000));
        await cli.type("no");
        await cli.explain(cli.waitForPane(/Leaving BigInt out\./, 30_000));
        await peer.done;
        await poll(
          async () => ((await readText(cli.transcriptPath, "utf8")).includes("Leaving BigInt out.") ? true : undefined),
          10_000,
          () => `the final reply in ${cli.transcriptPath}`,
        );
        const page = await browser.newPage();
        await page.goto(logUrl(server));
        const lines = await readTranscript(cli.transcriptPath);
        // The types the issue saw as 31 red entries in the demo are among what this session writes.
        for (const type of ["mode", "atis-latch", "api-request", "tools-used", "file-history-delta"]) {
          expect(
            lines.some((line) => line.type === type),
            type,
          ).toBe(true);
        }
        await expectReadsCleanly(page, lines);
        expect(await page.locator("details.tool").count()).toBe(4);
        await expect(page.locator(".entry.user .text", { hasText: "no" }).count()).resolves.toBeGreaterThan(0);
      } finally {
        await cli.stop();
        await browser.close();
        await server.close();
        await peer.close();
        await home.cleanup();
      }
    }, 150_000);
  },
);
