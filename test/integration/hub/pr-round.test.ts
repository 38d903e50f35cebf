import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@thopter/hub/config";
import { type Hub, startHub } from "@thopter/hub/hub";
import { createLogger } from "@thopter/hub/log";
import { afterEach, describe, expect, it } from "vitest";
import { type GithubPeer, startGithubPeer } from "../../peers/github/index.js";
import { pushFiles } from "../github-peer/harness.js";
import { brokerReporter } from "./broker-reports.js";
import { BOT, CODER_TOKEN, hubEnv, ISSUES_TOKEN, REPO, replies, until } from "./harness.js";
import { RecordingProvider } from "./recording-provider.js";
import { BRANCH, thopterPull } from "./thopter-pull.js";

// A follow-up's completion comment on the PR, through the hub's real intake, provisioner, collector and notifier
// (the provider only records): what the round pushed since its starting tip, and the head's checks as the hub's token
// can read them. The commits are pushed through the peer's real git remote, as the broker would.
let peer: GithubPeer | undefined;
let hub: Hub | undefined;
let dir: string | undefined;

afterEach(async () => {
  await hub?.stop();
  peer?.assertClean();
  await peer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  hub = peer = dir = undefined;
});

/** A peer whose thopter PR exists (its thopter reaped), and a hub watching it; the PR's number and its tip. */
async function world(readsChecks: boolean) {
  peer = await startGithubPeer();
  const seed = { issuesToken: ISSUES_TOKEN, coderToken: CODER_TOKEN, bot: { login: BOT } };
  await peer.addRepo(REPO, { ...seed, issuesTokenReadsChecks: readsChecks });
  // Issue #1 is the one the earlier thopter's branch was made for; its PR is #2.
  peer.createIssue(REPO, { title: "Widgets wobble", author: "alice", association: "OWNER" });
  const pull = await thopterPull(peer);
  const [tip] = await peer.log(REPO, BRANCH);
  dir = await mkdtemp(join(tmpdir(), "hub-round-"));
  const provider = new RecordingProvider();
  hub = await startHub(loadConfig(hubEnv(peer.url, dir)), {
    log: createLogger({ level: "silent" }),
    announce: () => {},
    provider,
    entrypoint: ["/bin/true"],
    retryUnitMs: 20,
  });
  return { peer, hub, provider, pull, tip: tip!.sha };
}

/** `/thopter …` on a line of the PR by its owner; resolves with the follow-up's record and its broker reporter. */
async function followUp(w: Awaited<ReturnType<typeof world>>, text: string) {
  const line = { author: "alice", association: "OWNER" as const, path: "wobble.ts", line: 1 };
  await w.peer.reviews.addComment(REPO, w.pull, { body: text, ...line });
  await w.hub.pollNow();
  await until(() => w.provider.specs.length === 1, 20_000, "provider.create");
  const spec = w.provider.specs[0]!;
  return { record: w.hub.thopters!.registry.get(spec.thopterId)!, report: brokerReporter(w.hub, spec) };
}

const completionOn = (pull: number) =>
  until(() => replies(peer!, pull).find((r) => r.startsWith("✅")), 20_000, "the completion comment on the PR");

describe("a follow-up's completion comment", () => {
  it("lists the round's commits since its starting tip and the head's checks by name", async () => {
    const w = await world(true);
    // CI failed on the tip the reviewer looked at.
    await w.peer.reviews.addCheckRun(REPO, { name: "lint", ref: BRANCH, conclusion: "failure" });
    const { record, report } = await followUp(w, "/thopter fix the failing check");
    expect(record.startTip).toBe(w.tip);

    await pushFiles(w.peer, BRANCH, { "wobble.ts": "export const WOBBLE = 1;\n" }, "Name the constant", REPO);
    // A subject imitating the hub's hidden markers is shown, not hidden.
    await pushFiles(w.peer, BRANCH, { "lint.txt": "ok\n" }, "Quiet lint <!-- thopter:notice -->", REPO);
    const [head] = await w.peer.log(REPO, BRANCH);
    await w.peer.reviews.addCheckRun(REPO, { name: "lint", ref: BRANCH, conclusion: "success" });
    await w.peer.reviews.addCheckRun(REPO, { name: "e2e", ref: BRANCH, conclusion: null });
    await w.peer.reviews.addCheckRun(REPO, { name: "types", ref: BRANCH, conclusion: "failure" });
    await report({ kind: "status", state: "done", summary: "Fixed lint." });

    const comment = await completionOn(w.pull);
    expect(comment).toContain(`This round: 2 new commits since \`${w.tip.slice(0, 7)}\`:`);
    expect(comment).toMatch(/- \[`[0-9a-f]{7}`\]\([^)]+\/commit\/[0-9a-f]{40}\) Name the constant\n/);
    expect(comment).toContain("Quiet lint &lt;!-- thopter:notice -->");
    // The new head's runs, failures first: lint's failure was on the old tip.
    const checks = `Checks on \`${head!.sha.slice(0, 7)}\`: ❌ types failing · ⏳ e2e pending · ✅ lint passing`;
    expect(comment).toContain(checks);
    expect(comment).toContain(`Pull request: ${peer!.pulls(REPO)[0]!.html_url}`);
    expect(comment).toContain("Follow-up on this pull request for issue #1");
    expect(replies(w.peer, 1)).toEqual([]);
  }, 90_000);

  it("says when nothing was pushed, and points to the PR when the hub's token cannot read checks", async () => {
    const w = await world(false);
    const { report } = await followUp(w, "/thopter go on");
    await w.peer.reviews.addCheckRun(REPO, { name: "build", ref: BRANCH, conclusion: "failure" });
    await report({ kind: "status", state: "done", summary: "Nothing to change." });
    const comment = await completionOn(w.pull);
    expect(comment).toContain(`This round: no new commits since \`${w.tip.slice(0, 7)}\`.`);
    expect(comment).toContain("Checks: see the PR (the hub's token cannot read check runs).");
    expect(comment).not.toContain("build");
  }, 90_000);
});
