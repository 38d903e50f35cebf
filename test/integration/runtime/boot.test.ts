import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { poll } from "../../helpers/poll.js";
import { bash, callTools, editFile, loadTools, mcpTool, readFile as readTool, say } from "../../peers/model/index.js";
import { bootTail, isRoot, README, REPO, startThopter, stateSequence, type Thopter } from "./harness.js";

const run = promisify(execFile);

describe.skipIf(!isRoot)(
  "a local thopter boots from its spec and works with the real Claude Code CLI (root only)",
  () => {
    let t: Thopter;
    // A .env.thopters value of no well-known shape, marked secret: only the hub's marking tells the broker of it.
    const marked = `horse-battery-${randomBytes(10).toString("hex")}`;
    beforeAll(async () => {
      // Claude's absolute paths are the machine's: `t` is set once the machine is made, before Claude's first turn.
      t = await startThopter(
        [
          callTools(loadTools("mcp__thopter__push_branch", "mcp__thopter__report_status")),
          () => callTools(bash("cat ../prompt.md", "Read the prompt"), readTool(join(t.repoDir, "README.md"))),
          () => callTools(editFile(join(t.repoDir, "README.md"), "says hello.", "says hello, world.")),
          callTools(bash("git commit -qam 'Greet the world' && git log --oneline -1")),
          callTools(mcpTool("thopter", "push_branch", {})),
          callTools(
            mcpTool("thopter", "comment_on_issue", {
              body: `Deploy with ${marked.slice(0, 6)}&#${marked.charCodeAt(6)};${marked.slice(7)}`,
            }),
          ),
          callTools(mcpTool("thopter", "report_status", { state: "done", summary: "The README greets the world." })),
          say("All done: the README greets the world."),
        ],
        { thopterEnv: ["# secret", `DEPLOY_PASS=${marked}`] },
      );
    }, 60_000);
    afterAll(() => t?.close());

    it("edits, commits, pushes through the broker and reports done; hooks drive booting → working → waiting", async () => {
      await t.waitForState("done", 150_000);
      await poll(
        () => (stateSequence(t.observerEntries()).at(-1) === "waiting" ? true : undefined),
        30_000,
        () => `the Stop hook's report; observer: ${JSON.stringify(t.observerEntries())}\n${bootTail(t.layout)}`,
      );
      expect(t.model.problems).toEqual([]);
      const results = t.model.toolResults();
      expect(
        results.filter((r) => r.isError),
        JSON.stringify(results),
      ).toEqual([]);
      // Claude read the prompt the hub rendered, in the workspace the boot prepared.
      const prompt = results.find((r) => r.name === "Bash" && r.input.command === "cat ../prompt.md");
      expect(prompt?.text, JSON.stringify(results.map((r) => [r.name, r.input, r.turn]))).toContain(t.branch);

      const [head] = await t.peer.log(REPO, t.branch);
      expect(head).toMatchObject({ subject: "Greet the world" });
      expect(await t.peer.readFile(REPO, t.branch, "README.md")).toBe(
        README.replace("says hello.", "says hello, world."),
      );
      expect(t.record()).toMatchObject({ state: "done", summary: "The README greets the world." });
      // The marked secret, entity-split, reached GitHub only as [REDACTED].
      const comment = String(
        t.peer.comments(REPO, t.issueNumber).find((c) => String(c.body).startsWith("Deploy with"))?.body,
      );
      expect(comment).toBe("Deploy with [REDACTED]");

      const entries = t.observerEntries();
      expect(stateSequence(entries)).toEqual(["booting", "working", "waiting"]);
      expect(entries.slice(0, 4).map((e) => e.kind)).toEqual(["boot", "firewall", "SessionStart", "UserPromptSubmit"]);
      expect(entries.find((e) => e.kind === "firewall")?.message).toMatch(/shares the host's network/);
      expect(entries.filter((e) => e.kind === "PreToolUse").map((e) => e.message)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^PreToolUse: Bash \S/),
          expect.stringMatching(/^PreToolUse: Edit \S*README\.md$/),
          "PreToolUse: mcp__thopter__push_branch",
        ]),
      );
      expect(entries.at(-1)).toMatchObject({ kind: "Stop", state: "waiting" });
      expect(entries.at(-1)?.message).toMatch(/^Stop: idle/);
    }, 200_000);

    it("leaves no GitHub or broker token where the agent can read it: clone, mirror, home, env, MCP config", async () => {
      expect(
        await run("git", ["-c", "safe.directory=*", "-C", t.repoDir, "remote", "get-url", "origin"]).then((r) =>
          r.stdout.trim(),
        ),
      ).toBe(t.layout.mirror);
      expect(await readFile(join(t.repoDir, ".git/config"), "utf8")).not.toMatch(/x-access-token|ghp_/);
      const claudeJson = JSON.parse(await readFile(join(t.layout.home, ".claude.json"), "utf8"));
      expect(claudeJson.mcpServers.thopter).toMatchObject({
        type: "http",
        url: expect.stringMatching(/^http:\/\/127/),
      });
      for (const secret of [t.coderToken, t.reportToken, t.modelKey]) {
        // Everything under the machine's root that the agent can read; unreadable files are skipped.
        const { stdout } = await run("runuser", ["-u", t.agentUser, "--", "grep", "-rlsF", secret, t.fsRoot]).catch(
          (err: { stdout: string }) => err,
        );
        expect(stdout, `files readable by ${t.agentUser} holding a secret`).toBe("");
        const environments = await agentEnvironments(t.agentUser, t.fsRoot);
        expect(environments.length).toBeGreaterThan(0);
        for (const env of environments) expect(env).not.toContain(secret);
      }
      // The issue as the broker's get_issue returned it, comments and authors included.
      const issueMd = await readFile(join(t.layout.workspace, "issue.md"), "utf8");
      expect(issueMd).toContain("# #1: Greet the world");
      expect(issueMd).toMatch(/### @bob at \S+\n\nKeep it short, please\./);
      expect(JSON.parse(await readFile(join(t.layout.workspace, "issue.json"), "utf8"))).toMatchObject({
        source: "get_issue",
        comments: [{ author: "bob" }],
      });
      const log = await t.bootLog();
      expect(log).toMatch(/"step":"workspace","ms":\d+/);
      for (const secret of [t.coderToken, t.reportToken, t.modelKey]) expect(log).not.toContain(secret);
      // The process list as the agent sees it (every process's command line, its own processes' environments).
      const { stdout: ps } = await run("runuser", ["-u", t.agentUser, "--", "ps", "auxwwe"]);
      expect(ps).toContain("model-proxy/main");
      expect(ps).not.toContain(t.modelKey);
    });

    it("gives the model its credential only through the model proxy, which counts what the model served", async () => {
      // Claude talks to the proxy on loopback with a placeholder; the model peer saw only the real key.
      const claude = (await agentEnvironments(t.agentUser, t.fsRoot)).find((env) =>
        env.includes("ANTHROPIC_BASE_URL="),
      );
      const vars = Object.fromEntries(
        claude!.split("\0").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
      );
      expect(vars.ANTHROPIC_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(vars.ANTHROPIC_BASE_URL).not.toBe(t.model.url);
      expect(vars.ANTHROPIC_API_KEY).toMatch(/^sk-ant-api03-thopter-[0-9a-f]{64}$/);
      expect(t.model.requests.length).toBeGreaterThan(0);
      for (const req of t.model.requests) expect(req.headers["x-api-key"]).toBe(t.modelKey);
      const served: Record<string, { input: number; output: number; cacheRead: number; cacheWrite: number }> = {};
      for (const { response } of t.model.requests) {
        if (!response) continue;
        const sum = served[response.model] ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
        sum.input += response.usage.input_tokens;
        sum.output += response.usage.output_tokens;
        served[response.model] = sum;
      }
      await poll(
        () => (JSON.stringify(t.record().usage?.proxy?.models) === JSON.stringify(served) ? true : undefined),
        15_000,
        () => `proxy usage ${JSON.stringify(served)} on the record; it has ${JSON.stringify(t.record().usage)}`,
      );
    });
  },
);

/** The environments of the agent's processes of this machine (Claude, its shell, tmux, the observer). */
async function agentEnvironments(agentUser: string, fsRoot: string): Promise<string[]> {
  const { stdout: uid } = await run("id", ["-u", agentUser]);
  const { stdout } = await run("ps", ["-u", uid.trim(), "-o", "pid="]);
  const found: string[] = [];
  for (const pid of stdout
    .split("\n")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const env = await readFile(`/proc/${pid}/environ`, "utf8").catch(() => "");
    if (env.split("\0").includes(`THOPTER_FS_ROOT=${fsRoot}`)) found.push(env);
  }
  return found;
}
