import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asAgent } from "./agent.js";
import { isRoot, REPO, startWorld, text, type World } from "./harness.js";

/** Every file under `dir` (following nothing), for "the token is nowhere in here" checks. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe.skipIf(!isRoot)("broker security: the agent attacks, nothing happens (root only: real `thopter` user)", () => {
  let w: World;

  beforeAll(async () => {
    w = await startWorld({ process: true });
  });
  afterAll(async () => {
    w?.peer.assertClean();
    await w?.close();
  });

  it("keeps the coder token unreadable: token file, /proc of the broker, ps during a push", async () => {
    const agentCat = (path: string) => asAgent(w.agent, w.agentHome, "cat", [path]);
    await expect(agentCat(w.config.coderTokenFile)).rejects.toThrow(/Permission denied/);
    await expect(agentCat(w.configPath)).rejects.toThrow(/Permission denied/);
    await expect(agentCat(`/proc/${w.broker.pid}/environ`)).rejects.toThrow(/Permission denied/);
    expect(await agentCat(`/proc/${w.broker.pid}/cmdline`)).not.toContain(w.coderToken);

    // Watch every process's argv (and every environment it may read) as the agent while pushes run.
    const stop = join(w.agentHome, "stop");
    const watch = asAgent(w.agent, w.agentHome, "sh", [
      "-c",
      `n=0; while [ ! -e ${stop} ]; do ps -eww -o args; cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" "\\n"; n=$((n+1)); done; echo "rounds=$n"`,
    ]);
    for (let i = 0; i < 3; i++) {
      await w.commit({ [`file-${i}.txt`]: `change ${i}\n` }, `Change ${i}`);
      const pushed = await w.call("push_branch");
      expect(pushed.isError, text(pushed)).toBeFalsy();
    }
    writeFileSync(stop, "");
    const seen = await watch;
    expect(seen).toMatch(/rounds=[1-9]/);
    expect(seen).toContain(`HOME=${w.agentHome}`); // the watcher does read the environments it may read
    expect(seen).not.toContain(w.coderToken);
    expect(seen).not.toContain(Buffer.from(`x-access-token:${w.coderToken}`).toString("base64"));
  });

  it("leaves the token out of the agent's clone, the mirror, the MCP config, logs, audit and reports", async () => {
    const leaked = await w.call("comment_on_issue", { body: `my token is ${w.coderToken}` });
    expect(leaked.isError, text(leaked)).toBeFalsy();
    await w.call("report_status", { state: "working", summary: `still going ${w.coderToken}` });
    await w.receiver.waitFor((r) => r.some((x) => x.body.kind === "status"));

    const mcpConfig = JSON.parse(readFileSync(w.config.agentMcpConfigPath!, "utf8"));
    expect(mcpConfig.mcpServers.thopter.headers.Authorization).toBe(`Bearer ${w.mcpKey}`);
    expect(statSync(w.config.agentMcpConfigPath!).uid).toBe(w.agent.uid);

    const basic = Buffer.from(`x-access-token:${w.coderToken}`).toString("base64");
    const places = [
      ...filesUnder(w.workspace),
      ...filesUnder(w.config.mirror),
      ...filesUnder(w.config.stateDir),
      w.config.agentMcpConfigPath!,
    ];
    expect(places).toContain(join(w.workspace, ".git", "config"));
    expect(places).toContain(join(w.config.stateDir, "audit.log"));
    for (const file of places) {
      const content = readFileSync(file, "latin1");
      expect(content.includes(w.coderToken) || content.includes(basic), file).toBe(false);
    }
    expect(readFileSync(join(w.config.stateDir, "audit.log"), "utf8")).toContain("[REDACTED]");
    expect(statSync(join(w.config.stateDir, "audit.log")).mode & 0o077).toBe(0);
    expect(w.broker.output()).not.toContain(w.coderToken);
    expect(JSON.stringify(w.receiver.reports)).not.toContain(w.coderToken);
    expect(JSON.stringify(w.peer.comments(REPO, w.issueNumber))).not.toContain(w.coderToken);
  });

  it("pushes nothing but the work branch, whatever the arguments or the agent's branch names", async () => {
    const main = (await w.peer.log(REPO, "main"))[0]!.sha;
    const tricks: Array<Record<string, unknown>> = [
      { branch: "main" },
      { force: true, ref: "refs/heads/main" },
      { force: "--receive-pack=touch /tmp/pwned" },
      { refspec: "HEAD:refs/heads/main" },
      { force: true, remote: "--upload-pack=sh" },
    ];
    for (const args of tricks) {
      const result = await w.call("push_branch", args);
      expect(result.isError, JSON.stringify(args)).toBe(true);
      expect(text(result)).toMatch(/^Invalid arguments for push_branch: /);
    }
    // Each attempt is on the hub's audit trail, arguments and all.
    await w.receiver.waitFor((r) =>
      r.some((x) => x.body.kind === "audit" && x.body.outcome === "refused" && x.body.args.branch === "main"),
    );
    // The agent names its branch like the target it wants, and points HEAD at it.
    await w.git("checkout", "-q", "-b", "main-evil");
    await w.git("branch", "-f", "refs/heads/main");
    await w.git("symbolic-ref", "HEAD", "refs/heads/main");
    const head = await w.commit({ "evil.txt": "x\n" }, "Try to land on main");
    const pushed = await w.call("push_branch", { force: true });
    expect(pushed.isError, text(pushed)).toBeFalsy();
    expect((await w.peer.log(REPO, w.workBranch))[0]!.sha).toBe(head);
    expect((await w.peer.log(REPO, "main"))[0]!.sha).toBe(main);
    expect((await w.peer.branches(REPO)).sort()).toEqual(["main", w.workBranch].sort());
  });

  it("fsck-checks the objects the agent sends: a crafted tree with a .git entry never reaches origin", async () => {
    const before = (await w.peer.log(REPO, w.workBranch))[0]!.sha;
    const craft = `b=$(echo pwn | git hash-object -w --stdin) && t=$(printf "100644 blob $b\\t.git\\n" | git mktree) && c=$(git commit-tree $t -p HEAD -m crafted) && git reset -q --soft $c`;
    await asAgent(w.agent, w.agentHome, "sh", ["-c", craft], { cwd: w.workspace });
    const refused = await w.call("push_branch");
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/\.git|dotgit|fsck/i);
    expect((await w.peer.log(REPO, w.workBranch))[0]!.sha).toBe(before);
    await w.git("reset", "-q", "--soft", "HEAD~1");
  });

  it("comment_on_issue: own issue only, size-limited, redacted, rate-limited with a retry time", async () => {
    const other = w.peer.createIssue(REPO, { title: "Someone else's", body: "x", author: "bob" });
    const aimed = await w.call("comment_on_issue", { body: "hi", issue_number: other.number });
    expect(aimed.isError).toBe(true);
    expect(w.peer.comments(REPO, other.number as number)).toEqual([]);

    const huge = await w.call("comment_on_issue", { body: "x".repeat(65_537) });
    expect(huge.isError).toBe(true);
    expect(text(huge)).toMatch(/65536/);

    const before = w.peer.comments(REPO, w.issueNumber).length;
    const shape = `ghp_${"Z".repeat(36)}`;
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await w.call("comment_on_issue", { body: `note ${i} ${shape}` }));
    const posted = w.peer.comments(REPO, w.issueNumber).slice(before);
    // The comments earlier tests in this world posted count: only the rest of 5 per 10 minutes fit.
    const fit = 5 - before;
    expect(fit).toBeGreaterThan(0);
    expect(fit).toBeLessThan(6);
    expect(results.filter((r) => !r.isError).length).toBe(fit);
    expect(posted.length).toBe(fit);
    for (const c of posted) expect(c.body).toMatch(/^note \d \[REDACTED\]$/);
    const limited = results.at(-1)!;
    expect(limited.isError).toBe(true);
    expect(text(limited)).toMatch(/Try again after \d{4}-\d\d-\d\dT[\d:.]+Z \(in \d+ s\)/);
  });

  it("listens on 127.0.0.1 only, wants the bearer key, checks Host, and serves no OAuth discovery", async () => {
    const port = Number(new URL(w.broker.url).port);
    const reach = (host: string) =>
      new Promise<boolean>((resolve) => {
        const socket = connect({ host, port, timeout: 2_000 });
        socket.on("connect", () => {
          socket.destroy();
          resolve(true);
        });
        socket.on("error", () => resolve(false));
        socket.on("timeout", () => {
          socket.destroy();
          resolve(false);
        });
      });
    expect(await reach("127.0.0.1")).toBe(true);
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal)
      .map((a) => (a!.family === "IPv6" && a!.scopeid ? `${a!.address}%${a!.scopeid}` : a!.address));
    others.push("::1");
    for (const address of others) expect(await reach(address), address).toBe(false);

    // node:http rather than fetch, which will not send a foreign Host header.
    const post = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = request(w.broker.url, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
        });
        req.on("response", (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }));
      });
    expect(await post({ authorization: `Bearer ${w.mcpKey}` })).toBe(200);
    expect(await post({})).toBe(401);
    expect(await post({ authorization: `Bearer ${w.mcpKey.slice(0, -1)}x` })).toBe(401);
    expect(await post({ authorization: `Bearer ${w.mcpKey}`, host: `evil.example:${port}` })).toBe(403);
    await expect(w.connect("wrong-key")).rejects.toThrow();
    for (const path of [
      "/.well-known/oauth-protected-resource",
      "/.well-known/oauth-authorization-server",
      "/register",
    ]) {
      expect((await fetch(new URL(path, w.broker.url))).status, path).toBe(404);
    }
    const tools = await w.client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual(
      [
        "comment_on_issue",
        "get_checks",
        "get_issue",
        "get_pull_request",
        "open_pull_request",
        "push_branch",
        "reply_to_review_comment",
        "report_status",
        "update_from_origin",
      ].sort(),
    );
  });
});
