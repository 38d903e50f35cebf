import { describe, expect, it } from "vitest";
import { FIXED, fixScenario, REPO } from "../demo/world.js";
import { bash, callTools, mcpTool, say } from "../peers/model/index.js";
import { asRoot, completion, ROOT_ONLY, reactions, until, useWorld } from "./harness.js";

const RENAMED = FIXED.replace("add(a, b)", "add(x, y)").replace("a + b", "x + y");

/** The line comment the reviewer writes, once written (the model answers in its thread). */
let reviewCommentId = 0;
/** What Claude sent the model as the user's words of the follow-up round. */
let followUpPrompt = "";

/**
 * The demo's fix, then the follow-up round as Claude would do it: read the PR, rename, commit, push to the same
 * branch, answer the line comment in its thread, report done.
 */
const scenario = [
  ...fixScenario(),
  ({ userText }: { userText: string }) => {
    followUpPrompt = userText;
    return callTools(mcpTool("thopter", "get_pull_request", {}));
  },
  callTools(
    bash(
      "sed -i 's/add(a, b)/add(x, y)/; s/a + b/x + y/' src/add.js && node --test && " +
        "git commit -qam 'Rename add()'\"'\"'s parameters to x and y' && git log --oneline -1",
    ),
  ),
  callTools(mcpTool("thopter", "push_branch", {})),
  () =>
    callTools(
      mcpTool("thopter", "reply_to_review_comment", { comment_id: reviewCommentId, body: "Renamed them to x and y." }),
    ),
  callTools(mcpTool("thopter", "report_status", { state: "done", summary: "Renamed add()'s parameters to x, y." })),
  say("Done: renamed and pushed."),
];

const world = useWorld({ scenario });

describe.skipIf(!asRoot)(`/thopter on a live thopter's PR, real Claude CLI on the scripted model ${ROOT_ONLY}`, () => {
  it("reaches the running Claude session: it reads the review, pushes to the same branch, answers in the thread", async () => {
    // Thopter ids follow from the command's comment id: a few words first keep this test's thopter user apart from
    // those of the other demo-world tests (their command is the first comment), should they run alongside.
    for (const words of ["Seen it too.", "Same here on Node 20.", "And on 22."]) world.comment(words);
    const command = world.comment("/thopter");
    await until(() => reactions(world, command, "rocket") === 1, 60_000, "🚀 on the command");
    await completion(world, 120_000);
    const [thopter] = await world.thopters();
    expect(thopter?.state).toBe("done");
    const [pull] = world.peer.pulls(REPO);
    const pullNumber = Number(pull!.number);

    const review = await world.peer.reviews.addComment(REPO, pullNumber, {
      body: "/thopter please rename x: call the parameters x and y",
      author: "alice",
      association: "OWNER",
      path: "src/add.js",
      line: 1,
    });
    reviewCommentId = Number(review.id);
    const thread = () => world.peer.reviews.comments(REPO, pullNumber).filter((c) => c.in_reply_to_id === review.id);
    const onPull = () =>
      world.peer
        .comments(REPO, pullNumber)
        .filter((c) => (c.user as { login: string }).login === world.bot)
        .map((c) => String(c.body));

    // No new thopter: the same one answers, in its thread, on its branch, and says so on the PR.
    await until(() => thread().length === 1, 150_000, "the reply in the line comment's thread");
    expect(followUpPrompt).toContain("please rename x: call the parameters x and y");
    expect(followUpPrompt).toMatch(/^Follow-up from @alice on pull request #\d+/);
    expect(String(thread()[0]!.body)).toBe("Renamed them to x and y.");
    await until(() => onPull().some((c) => c.startsWith("✅")), 60_000, "the completion comment on the PR");
    expect(onPull().find((c) => c.startsWith("✅"))).toContain("Renamed add()'s parameters to x, y.");
    expect(await world.peer.readFile(REPO, thopter!.branch, "src/add.js")).toBe(RENAMED);
    const [head] = await world.peer.log(REPO, thopter!.branch);
    expect(head?.subject).toBe("Rename add()'s parameters to x and y");
    expect((await world.thopters()).map((t) => t.id)).toEqual([thopter!.id]);
    expect(world.peer.pulls(REPO)).toHaveLength(1);
  }, 360_000);
});
