import { chmodSync, chownSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asAgent } from "./agent.js";
import { isRoot, REPO, startWorld, text, type World } from "./harness.js";

const HOOKS = [
  "pre-push",
  "post-checkout",
  "reference-transaction",
  "pre-commit",
  "post-commit",
  "post-merge",
  "pre-auto-gc",
  "post-rewrite",
  "push-to-checkout",
  "pre-receive",
  "update",
  "post-update",
  "fsmonitor-watchman",
];

describe.skipIf(!isRoot)("broker security: planted hooks never run as root (root only: real `thopter` user)", () => {
  let w: World;
  let markers: string;
  let payload: string;
  const rootMarkers = () =>
    readdirSync(markers).filter((f) => statSync(join(markers, f)).uid === 0 || f.startsWith("0-"));

  beforeAll(async () => {
    w = await startWorld({ process: true });
    markers = join(w.root, "markers");
    mkdirSync(markers);
    chmodSync(markers, 0o1777);
    // One payload for every vector: records who ran it and as which trigger.
    payload = join(w.agentHome, "payload.sh");
    writeFileSync(
      payload,
      `#!/bin/sh\necho "$0 $*" > "${markers}/$(id -u)-$(basename "$0")-$$"\ncat >/dev/null 2>&1 &\nexit 0\n`,
    );
    chmodSync(payload, 0o755);
    chownSync(payload, w.agent.uid, w.agent.gid);
  });
  afterAll(async () => {
    w?.peer.assertClean();
    await w?.close();
  });

  it("never runs planted hooks, fsmonitor, ssh/pack hooks, filters or a hooksPath as root during any tool call", async () => {
    const hooksDir = join(w.workspace, ".git", "hooks");
    const altHooks = join(w.agentHome, "hooks");
    mkdirSync(altHooks, { recursive: true });
    for (const dir of [hooksDir, altHooks]) {
      for (const hook of HOOKS) {
        writeFileSync(join(dir, hook), `#!/bin/sh\nexec ${payload} ${hook} "$@"\n`);
        chmodSync(join(dir, hook), 0o755);
        chownSync(join(dir, hook), w.agent.uid, w.agent.gid);
      }
    }
    chownSync(altHooks, w.agent.uid, w.agent.gid);
    const settings: Array<[string, string]> = [
      ["core.fsmonitor", payload],
      ["core.sshCommand", payload],
      ["core.hooksPath", altHooks],
      ["core.pager", payload],
      ["core.editor", payload],
      ["core.gitProxy", payload],
      ["uploadpack.packObjectsHook", payload],
      ["remote.origin.receivepack", payload],
      ["remote.origin.uploadpack", payload],
      ["credential.helper", `!${payload}`],
      ["diff.external", payload],
      ["diff.evil.textconv", payload],
      ["filter.evil.clean", payload],
      ["filter.evil.smudge", payload],
      ["gpg.program", payload],
      ["commit.gpgSign", "false"],
    ];
    for (const [key, value] of settings) await w.git("config", key, value);
    await w.commit({ ".gitattributes": "* diff=evil filter=evil\n", "attack.txt": "payload\n" }, "Plant everything");

    // The payloads are live: the agent's own git runs them, as the agent.
    await w.git("status");
    await w.commit({ "again.txt": "x\n" }, "Trigger hooks");
    const asAgentMarkers = readdirSync(markers).filter((f) => f.startsWith(`${w.agent.uid}-`));
    expect(asAgentMarkers.length).toBeGreaterThan(0);
    for (const f of readdirSync(markers)) rmSync(join(markers, f));

    const calls: Array<[string, Record<string, unknown>]> = [
      ["push_branch", {}],
      ["push_branch", { force: true }],
      ["update_from_origin", {}],
      ["get_issue", {}],
      ["open_pull_request", { title: "Greeting", body: "Adds hello" }],
      ["comment_on_issue", { body: "progress" }],
      ["report_status", { state: "working", summary: "planted" }],
    ];
    for (const [tool, args] of calls) {
      const result = await w.call(tool, args);
      expect(result.isError, `${tool}: ${text(result)}`).toBeFalsy();
    }
    expect(rootMarkers()).toEqual([]);

    // A symlinked .git pointing at an agent-made repository full of the same traps.
    const decoy = join(w.agentHome, "decoy.git");
    await asAgent(w.agent, w.agentHome, "cp", ["-a", join(w.workspace, ".git"), decoy]);
    await asAgent(w.agent, w.agentHome, "rm", ["-rf", join(w.workspace, ".git")]);
    await asAgent(w.agent, w.agentHome, "ln", ["-s", decoy, join(w.workspace, ".git")]);
    await w.commit({ "via-symlink.txt": "x\n" }, "Commit through a symlinked .git");
    for (const f of readdirSync(markers)) rmSync(join(markers, f));
    const pushed = await w.call("push_branch");
    expect(pushed.isError, text(pushed)).toBeFalsy();
    expect((await w.peer.log(REPO, w.workBranch))[0]!.subject).toBe("Commit through a symlinked .git");
    expect(rootMarkers()).toEqual([]);

    // .git pointing at a directory only root can read: the agent's git cannot read it, and root does not either.
    await asAgent(w.agent, w.agentHome, "rm", ["-f", join(w.workspace, ".git")]);
    await asAgent(w.agent, w.agentHome, "ln", [
      "-s",
      w.config.mirror.replace(/mirror\.git$/, "secrets"),
      join(w.workspace, ".git"),
    ]);
    const refused = await w.call("push_branch");
    expect(refused.isError).toBe(true);
    expect(text(refused)).not.toContain(w.coderToken);
    expect(rootMarkers()).toEqual([]);
    await asAgent(w.agent, w.agentHome, "rm", ["-f", join(w.workspace, ".git")]);
    await asAgent(w.agent, w.agentHome, "ln", ["-s", decoy, join(w.workspace, ".git")]);
  });
});
