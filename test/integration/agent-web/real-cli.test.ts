import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { mintAccessToken } from "@thopter/agent/access/index";
import { startSessionLogServer } from "@thopter/agent/session-log/index";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { launchBrowser } from "../../helpers/browser.js";
import { isRoot, prepareClaudeHome, readTranscript, runClaudeHeadless } from "../../helpers/claude.js";
import { bash, callTools, say, startModelPeer } from "../../peers/model/index.js";
import { AGENT_USER } from "../../setup/global.js";
import { schemaLineTypes } from "./transcripts.js";

const KEY = "real-cli-session-log-key-0123456789abcd";

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
      // Started before the CLI: the projects folder does not exist yet, the server waits for it.
      const server = await startSessionLogServer({
        key: KEY,
        thopterId: "t-cli",
        dir: join(home.home, ".claude", "projects"),
        // The transcript is the agent's file: only files `thopter` owns are shown.
        owner: Number(execFileSync("id", ["-u", AGENT_USER], { encoding: "utf8" }).trim()),
        log: pino({ level: "silent" }),
      });
      const browser = await launchBrowser();
      try {
        const page = await browser.newPage();
        const exp = Math.floor(Date.now() / 1000) + 600;
        await page.goto(`${server.url}/?token=${mintAccessToken(KEY, { thopterId: "t-cli", scope: "log", exp })}`);
        const run = await runClaudeHeadless(home, peer.url, "Run the commands");
        expect(run.code, run.stderr).toBe(0);
        await peer.done;
        const lines = await readTranscript(run.transcriptPath);
        // Every line is on the page: as its own entry, or folded into an "n other entries" group.
        await expect.poll(() => page.locator("[data-line]").count(), { timeout: 10_000 }).toBe(lines.length);
        // The bookkeeping this newer CLI adds (types the published schemas lack) is folded quietly, never an error.
        const known = schemaLineTypes();
        const unknown = lines.filter((line) => !known.has(line.type as string));
        expect(unknown.length).toBeGreaterThan(0);
        expect(await page.locator(".entry.raw").count()).toBe(0);
        expect(await page.getByText("malformed").count()).toBe(0);
        expect(await page.locator(".entry.other .other-line").count()).toBe(unknown.length);
        expect(await page.locator(".entry.other:not([open])").count()).toBe(await page.locator(".entry.other").count());
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
  },
);
