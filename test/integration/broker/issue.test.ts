import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRoot, REPO, startWorld, text, type World } from "./harness.js";

describe.skipIf(!isRoot)("issue tools against the GitHub peer (root only: broker config names `thopter`)", () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
    w.peer.addComment(REPO, w.issueNumber, { body: "Also greet in French, please.", author: "bob" });
  });
  afterAll(async () => {
    w?.peer.assertClean();
    await w?.close();
  });

  it("get_issue returns the title, body and every comment with its author", async () => {
    const result = await w.call("get_issue");
    expect(result.isError, text(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      number: w.issueNumber,
      title: "Add a greeting",
      body: "Please add hello.txt",
      comments: [{ author: "bob", body: "Also greet in French, please." }],
    });
    expect(text(result)).toContain("### @bob at ");
  });

  it("open_pull_request opens a draft from the work branch to the default branch, once", async () => {
    const early = await w.call("open_pull_request", { title: "Greeting", body: "Closes #1" });
    expect(early.isError).toBe(true);
    expect(text(early)).toMatch(/push_branch first/);

    await w.commit({ "hello.txt": "bonjour\n" }, "Add greeting");
    expect((await w.call("push_branch")).isError).toBeFalsy();
    const opened = await w.call("open_pull_request", { title: "Greeting", body: `Closes #${w.issueNumber}` });
    expect(opened.isError, text(opened)).toBeFalsy();
    expect(opened.structuredContent).toMatchObject({ existing: false });
    const again = await w.call("open_pull_request", { title: "Greeting v2", body: "again", draft: false });
    expect(again.structuredContent).toMatchObject({ existing: true, url: opened.structuredContent?.url });
    const pulls = w.peer.pulls(REPO);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({
      draft: true,
      title: "Greeting",
      head: { ref: w.workBranch },
      base: { ref: "main" },
    });

    // The PR link travels with the next status report.
    await w.call("report_status", { state: "done", summary: "Greeting added" });
    await w.receiver.waitFor((r) =>
      r.some((x) => x.body.kind === "status" && x.body.pullRequestUrl === opened.structuredContent?.url),
    );
  });
});
