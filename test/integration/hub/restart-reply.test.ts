import { expect, it } from "vitest";
import { killHard, useChildHubs } from "./child.js";
import { ISSUES_TOKEN, REPO, replies, until } from "./harness.js";

// `pnpm start` as a child process: replies survive SIGKILL exactly once; bad configuration stops it with one line.
const h = useChildHubs();

it.each(["request", "response"] as const)(
  "posts a refusal exactly once when killed while posting it (%s frozen)",
  async (hold) => {
    h.gate.freeze("POST", /\/issues\/\d+\/comments$/, hold);
    const first = h.hub();
    await first.url;
    h.peer.addComment(REPO, h.issue, { body: "/thopter", author: "mallory", association: "NONE" });
    await until(() => h.gate.held === 1, 20_000, "the reply to reach GitHub");
    await killHard(first);
    h.gate.open();

    const second = h.hub();
    await second.url;
    await until(() => replies(h.peer, h.issue).length === 1, 20_000, "the reply after restart");
    await new Promise((r) => setTimeout(r, 1000));
    expect(replies(h.peer, h.issue)).toHaveLength(1);
    expect(replies(h.peer, h.issue)[0]).toContain("@mallory");
  },
);

it("posts the 'first /thopter line only' reply exactly once when killed before it was recorded", async () => {
  // Killed while the 👀 is on its way: the request is stored, the reply it earned not yet posted.
  h.gate.freeze("POST", /\/reactions$/, "request");
  const first = h.hub();
  await first.url;
  h.peer.addComment(REPO, h.issue, { body: "/thopter -p plan\n/thopter", author: "alice", association: "OWNER" });
  await until(() => h.gate.held === 1, 20_000, "the 👀 to reach GitHub");
  await killHard(first);
  h.gate.open();

  const second = h.hub();
  await second.url;
  await until(() => replies(h.peer, h.issue).length === 1, 20_000, "the reply after restart");
  await new Promise((r) => setTimeout(r, 1000));
  expect(replies(h.peer, h.issue)).toHaveLength(1);
  expect(replies(h.peer, h.issue)[0]).toMatch(/first `\/thopter` line only/);
});

it("refuses a malformed GITHUB_INTEGRATION_JSON with one line naming it, and exits 1", async () => {
  const child = h.hub({ GITHUB_INTEGRATION_JSON: `{"repositories":{"acme/widgets":{"issuesToken":"${ISSUES_TOKEN}"` });
  expect(await child.exited).toBe(1);
  const lines = child.output().trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^GITHUB_INTEGRATION_JSON: .*not valid JSON/);
  expect(child.output()).not.toContain(ISSUES_TOKEN);
});
