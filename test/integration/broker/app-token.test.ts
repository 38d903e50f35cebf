import { afterEach, describe, expect, it } from "vitest";
import { isRoot, REPO, startWorld, text, type World } from "./harness.js";

/**
 * The broker with a GitHub App token that expires mid-session: it renews through the hub's collector channel (its
 * broker token), pushes and comments keep working, and no token it ever held shows up in what it reports.
 */

let w: World | undefined;
afterEach(async () => {
  if (!w) return;
  w.peer.assertClean();
  await w.close();
  w = undefined;
});

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!isRoot)("broker with a GitHub App token", () => {
  it("renews before expiry: a push after the first token expired works", async () => {
    w = await startWorld({ app: { lifetimeMs: 6000, renewBeforeMs: 4000, firstRenewalMs: 1500 } });
    const first = w.coderToken;
    expect(first).toMatch(/^ghs_/);
    await w.commit({ "hello.txt": "hello\n" }, "Add hello");
    expect((await w.call("push_branch")).isError).toBeFalsy();
    await wait(6500); // the first token is dead by now; the broker renewed at ~1.5 s and again before that one expired
    expect(w.receiver.renewals).toBeGreaterThanOrEqual(1);
    const sha = await w.commit({ "hello.txt": "hello again\n" }, "Greet again");
    const pushed = await w.call("push_branch");
    expect(pushed.isError, text(pushed)).toBeFalsy();
    expect((await w.peer.log(REPO, w.workBranch))[0]?.sha).toBe(sha);
    const reported = JSON.stringify(w.receiver.reports) + w.broker.output();
    expect(reported).not.toContain(first);
    expect(reported).not.toMatch(/ghs_[A-Za-z0-9]{20,}/);
  }, 120_000);

  it("renews at once when GitHub answers 401, and the call goes through", async () => {
    w = await startWorld({ app: { lifetimeMs: 2500, renewBeforeMs: 0, firstRenewalMs: 600_000 } });
    expect((await w.call("get_issue")).isError).toBeFalsy();
    await wait(3000); // expired, and no timer renewed it
    const before = w.receiver.renewals;
    const result = await w.call("get_issue");
    expect(result.isError, text(result)).toBeFalsy();
    expect(w.receiver.renewals).toBe(before + 1);
  }, 120_000);
});
