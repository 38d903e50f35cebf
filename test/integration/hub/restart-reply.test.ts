import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { expect, it } from "vitest";
import { killHard, useChildHubs } from "./child.js";
import { ISSUES_TOKEN, REPO, replies, until } from "./harness.js";

// `pnpm start` as a child process: replies survive SIGKILL exactly once; bad configuration stops it with one line.
const h = useChildHubs();

/**
 * Writes `comment` while the gate holds the hub's first call to `path`, kills the hub there, starts another, and
 * returns the one reply the issue must end with (it fails if there are more).
 */
async function onlyReplyAfterKill(
  path: RegExp,
  hold: "request" | "response",
  comment: { body: string; author: string; association: "OWNER" | "NONE" },
): Promise<string> {
  h.gate.freeze("POST", path, hold);
  const first = h.hub();
  await first.url;
  h.peer.addComment(REPO, h.issue, comment);
  await until(() => h.gate.held === 1, 20_000, "the held call to reach GitHub");
  await killHard(first);
  h.gate.open();

  const second = h.hub();
  await second.url;
  await until(() => replies(h.peer, h.issue).length === 1, 20_000, "the reply after restart");
  await new Promise((r) => setTimeout(r, 1000));
  expect(replies(h.peer, h.issue)).toHaveLength(1);
  return replies(h.peer, h.issue)[0]!;
}

it.each(["request", "response"] as const)(
  "posts a refusal exactly once when killed while posting it (%s frozen)",
  async (hold) => {
    const reply = await onlyReplyAfterKill(/\/issues\/\d+\/comments$/, hold, {
      body: "/thopter",
      author: "mallory",
      association: "NONE",
    });
    expect(reply).toContain("@mallory");
  },
);

it("posts the 'first /thopter line only' reply exactly once when killed before it was recorded", async () => {
  // Killed while the 👀 is on its way: the request is stored, the reply it earned not yet posted.
  const reply = await onlyReplyAfterKill(/\/reactions$/, "request", {
    body: "/thopter -p plan\n/thopter",
    author: "alice",
    association: "OWNER",
  });
  expect(reply).toMatch(/first `\/thopter` line only/);
});

it("refuses a malformed GITHUB_INTEGRATION_JSON with one line naming it, and exits 1", async () => {
  const child = h.hub({ GITHUB_INTEGRATION_JSON: `{"repositories":{"acme/widgets":{"issuesToken":"${ISSUES_TOKEN}"` });
  expect(await child.exited).toBe(1);
  const lines = child.output().trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^GITHUB_INTEGRATION_JSON: .*not valid JSON/);
  expect(child.output()).not.toContain(ISSUES_TOKEN);
});

it("refuses a .env.thopters secret too short to scrub with one line naming the key, not its value, and exits 1", async () => {
  const file = join(h.dir, "thopters.env");
  await writeFile(file, "ANTHROPIC_API_KEY=sk-ant-long-enough-value\n# secret\nDEPLOY_PIN=8675309\n");
  const child = h.hub({ THOPTER_ENV_FILE: file });
  expect(await child.exited).toBe(1);
  const lines = child.output().trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^THOPTER_ENV_FILE: DEPLOY_PIN is secret but shorter than 8 characters/);
  expect(child.output()).not.toContain("8675309");
});
