import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { poll } from "../../helpers/poll.js";
import { say } from "../../peers/model/index.js";
import { isRoot, startThopter, type Thopter } from "./harness.js";

const run = promisify(execFile);

describe.skipIf(!isRoot)("a restarted thopter boots again without losing work (root only)", () => {
  let t: Thopter;
  const asAgent = (...command: string[]) => run("runuser", ["-u", t.agentUser, "--", ...command]);
  beforeAll(async () => {
    t = await startThopter([say("Ready when you are.")]);
  }, 60_000);
  afterAll(() => t?.close());

  it("keeps the clone with uncommitted work and the home's own config, takes its login out; Claude resumes", async () => {
    await t.model.waitForTurn(0, 120_000);
    await poll(
      () => (t.observerEntries().some((e) => e.kind === "Stop") ? true : undefined),
      60_000,
      () => "the first turn's Stop hook",
    );
    const home = t.layout.home;
    // What a human or Claude left: uncommitted work, a login, a setting of their own.
    await asAgent("sh", "-c", `echo draft > ${t.repoDir}/notes.txt && echo wip >> ${t.repoDir}/README.md`);
    await asAgent("sh", "-c", `echo '{"claudeAiOauth":{"accessToken":"x"}}' > ${home}/.claude/.credentials.json`);
    const claudeJson = JSON.parse(await readFile(join(home, ".claude.json"), "utf8"));
    await writeFile(
      join(home, ".claude.json"),
      JSON.stringify({ ...claudeJson, oauthAccount: { emailAddress: "a@b.c" } }),
    );

    await t.restart();

    expect(await readFile(join(t.repoDir, "notes.txt"), "utf8")).toBe("draft\n");
    expect(await readFile(join(t.repoDir, "README.md"), "utf8")).toMatch(/wip\n$/);
    // A login found in the home at boot is taken out of the agent's reach (the model proxy holds the credential).
    await expect(readFile(join(home, ".claude/.credentials.json"), "utf8")).rejects.toThrow(/ENOENT/);
    const after = JSON.parse(await readFile(join(home, ".claude.json"), "utf8"));
    expect(after.oauthAccount).toEqual({ emailAddress: "a@b.c" });
    // The broker came back with a fresh key, and the config Claude reads names it.
    expect(after.mcpServers.thopter.headers.Authorization).not.toBe(
      claudeJson.mcpServers.thopter.headers.Authorization,
    );
    const settings = JSON.parse(await readFile(join(home, ".claude/settings.json"), "utf8"));
    expect(settings.hooks.Stop).toHaveLength(1);
    expect((await readFile(join(home, ".bashrc"), "utf8")).match(/\.env\.thopters/g)).toHaveLength(2);
    const log = await t.bootLog();
    expect(log).toMatch(/clone already there: kept as it is/);
    // Claude picks up its earlier conversation instead of starting over on the prompt.
    const pane = await poll(
      async () => {
        const screen = await t.tmux("capture-pane", "-p", "-t", "thopter").catch(() => "");
        return screen.includes("Ready when you are.") ? screen : undefined;
      },
      60_000,
      () => "the resumed conversation in the pane",
    );
    expect(pane).toContain("Ready when you are.");
  }, 240_000);
});
