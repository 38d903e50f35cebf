import { describe, expect, it } from "vitest";
import { fixScenario, OWNER, REPO } from "../demo/world.js";
import {
  bash,
  callTools,
  loadTools,
  mcpTool,
  type Scenario,
  say,
  type Turn,
  type TurnContext,
} from "../peers/model/index.js";
import { asRoot, completion, ROOT_ONLY, until, useWorld } from "./harness.js";

// A second round on a thopter's PR after its thopter was reaped, with the real Claude CLI on the scripted model: the
// first conversation fixes the issue (fixScenario), the follow-up's (told apart by its prompt) runs `round`.
let round: Turn[] = [];
const fix = fixScenario();
const isFollowUp = (ctx: TurnContext) => JSON.stringify(ctx.request.messages[0] ?? "").includes("following up on");
const scenario: Scenario = Array.from({ length: 12 }, (_, i) => (ctx: TurnContext) => {
  const turn = (isFollowUp(ctx) ? round : fix)[i] ?? say("All done.");
  return typeof turn === "function" ? turn(ctx) : turn;
});
const world = useWorld({ scenario, issuesTokenReadsChecks: true });

const RENAMED = "export function add(augend, addend) {\\n  return augend + addend;\\n}\\n";
/** The follow-up's edit: rename add()'s parameters, run the tests, commit on top of the branch. */
const commitRename = (subject: string) =>
  callTools(bash(`printf '${RENAMED}' > src/add.js && node --test && git commit -qam "${subject}" && git log -1`));

/** The first round (issue → fix → PR), then its thopter stopped and reaped; the PR, its branch and tip. */
async function reapedFirstRound(): Promise<{ pull: number; branch: string; tip: string }> {
  world.comment("/thopter");
  await completion(world, 150_000);
  const [first] = await world.thopters();
  const stop = { method: "POST", headers: { "content-type": "application/json" }, body: "{}" };
  expect((await world.api(`/api/thopters/${first!.id}/stop`, stop)).status).toBe(200);
  await until(async () => (await world.thopters())[0]?.state === "gone", 60_000, "the first thopter reaped");
  const [tip] = await world.peer.log(REPO, first!.branch);
  return { pull: Number(world.peer.pulls(REPO)[0]!.number), branch: first!.branch, tip: tip!.sha };
}

/** `/thopter …` on a line of src/add.js in the PR, by the repository's owner. */
const review = (pull: number, body: string) =>
  world.peer.reviews.addComment(REPO, pull, { body, author: OWNER, association: "OWNER", path: "src/add.js", line: 2 });

/** The bot's completion comment on the PR. */
const completionOnPull = (pull: number) =>
  until(
    () =>
      world.peer
        .comments(REPO, pull)
        .map((c) => String(c.body))
        .find((b) => b.startsWith("✅")),
    200_000,
    "the completion comment on the PR",
  );

describe.skipIf(!asRoot)(`a second round on a thopter's PR, real Claude CLI on the scripted model ${ROOT_ONLY}`, () => {
  it("after reaping: a review comment starts a thopter at the branch tip that pushes on top and comments the round", async () => {
    let startHead = "";
    round = [
      callTools(loadTools("mcp__thopter__push_branch", "mcp__thopter__report_status")),
      callTools(bash("git rev-parse HEAD", "Where the branch starts")),
      ({ toolResults }) => {
        startHead = toolResults[0]!.text.trim();
        return commitRename("Name the parameters of add()");
      },
      callTools(mcpTool("thopter", "push_branch", {})),
      callTools(mcpTool("thopter", "report_status", { state: "done", summary: "Renamed the parameters." })),
      say("Done: the parameters are named."),
    ];
    const { pull, branch, tip } = await reapedFirstRound();
    await review(pull, "/thopter fix the naming");

    const comment = await completionOnPull(pull);
    expect(startHead).toBe(tip);
    // Pushed on top (no force): the old tip is the new commit's parent.
    const [head, parent] = await world.peer.log(REPO, branch);
    expect(head!.subject).toBe("Name the parameters of add()");
    expect(parent!.sha).toBe(tip);
    expect(comment).toContain(`This round: 1 new commit since \`${tip.slice(0, 7)}\`:`);
    expect(comment).toContain(`/commit/${head!.sha}) Name the parameters of add()`);
    expect(comment).toContain(`Checks on \`${head!.sha.slice(0, 7)}\`: none reported yet.`);
    expect(comment).toContain(`Follow-up on this pull request for issue #${world.issue}`);
    // The issue keeps its one comment, the first round's.
    expect(world.replies()).toHaveLength(1);
  }, 420_000);

  it("a failing check: the agent reads it with get_checks, pushes a fix, and the comment reports the checks' state", async () => {
    let checksSeen = "";
    let ciDone!: () => void;
    const ci = new Promise<void>((resolve) => {
      ciDone = resolve;
    });
    round = [
      callTools(loadTools("mcp__thopter__get_checks", "mcp__thopter__push_branch", "mcp__thopter__report_status")),
      callTools(mcpTool("thopter", "get_checks", {})),
      ({ toolResults }) => {
        checksSeen = toolResults[0]!.text;
        return commitRename("Fix the failing test check");
      },
      callTools(mcpTool("thopter", "push_branch", {})),
      async () => {
        await ci;
        return callTools(mcpTool("thopter", "report_status", { state: "done", summary: "The test check passes." }));
      },
      say("Done: the check passes."),
    ];
    const { pull, branch, tip } = await reapedFirstRound();
    // CI failed on the head, as a real CI would report it.
    const failure = { title: "1 test failed", summary: "node --test", text: "not ok 1 - add adds\n  expected: 5" };
    await world.peer.reviews.addCheckRun(REPO, { name: "test", ref: branch, conclusion: "failure", ...failure });
    await review(pull, "/thopter fix the failing check");

    // CI runs on the pushed head and passes.
    const pushed = async () => (await world.peer.log(REPO, branch)).find((c, n) => n === 0 && c.sha !== tip);
    const head = await until(pushed, 200_000, "the follow-up's push");
    await world.peer.reviews.addCheckRun(REPO, { name: "test", ref: branch, conclusion: "success" });
    ciDone();

    const comment = await completionOnPull(pull);
    // What get_checks gave Claude (its structured result): the failure and the failing step's excerpt.
    const seen = JSON.parse(checksSeen) as { sha: string; checks: { name: string; conclusion: string }[] };
    expect(seen.sha).toBe(tip);
    expect(seen.checks).toEqual([
      expect.objectContaining({ name: "test", conclusion: "failure", excerpt: "not ok 1 - add adds\n  expected: 5" }),
    ]);
    expect(head!.subject).toBe("Fix the failing test check");
    expect(comment).toContain(`This round: 1 new commit since \`${tip.slice(0, 7)}\`:`);
    expect(comment).toContain(`Checks on \`${head!.sha.slice(0, 7)}\`: ✅ test passing`);
  }, 420_000);
});
