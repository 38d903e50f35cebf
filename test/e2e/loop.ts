import type { ThopterRecord } from "@thopter/protocol";
import { expect } from "vitest";
import { BUGGY, FIXED, REPO, SUMMARY, type World } from "../demo/world.js";
import { completion, reactions, until } from "./harness.js";

/** What the loop left for the user to see. */
export interface LoopResult {
  thopter: ThopterRecord;
  pullUrl: string;
  /** The thopter's dashboard page, as the completion comment links it. */
  page: string;
}

/**
 * `/thopter` by the owner, then everything a user sees on GitHub: 👀 and 🚀 on the command, the fix on the pushed
 * branch (default branch untouched), one draft PR, one completion comment with its compare, PR and dashboard links.
 */
export async function runLoop(world: World): Promise<LoopResult> {
  const command = world.comment("/thopter");
  await until(() => reactions(world, command, "eyes") === 1, 20_000, "👀 on the command");
  await until(() => reactions(world, command, "rocket") === 1, 30_000, "🚀 on the command");

  const comment = await completion(world);
  const [thopter] = await world.thopters();
  expect(thopter).toMatchObject({ state: "done", repo: REPO, issueNumber: world.issue, summary: SUMMARY });

  expect(await world.peer.readFile(REPO, thopter!.branch, "src/add.js")).toBe(FIXED);
  expect(await world.peer.readFile(REPO, "main", "src/add.js")).toBe(BUGGY);
  const [head] = await world.peer.log(REPO, thopter!.branch);
  expect(head?.subject).toBe("Fix add(): add, do not subtract");

  const pulls = world.peer.pulls(REPO);
  expect(pulls).toHaveLength(1);
  expect(pulls[0]).toMatchObject({ draft: true, head: { ref: thopter!.branch }, base: { ref: "main" } });
  const pullUrl = String(pulls[0]!.html_url);

  expect(world.replies()).toEqual([comment]);
  expect(comment).toContain(SUMMARY);
  expect(comment).toContain(`${world.peer.url}/${REPO}/compare/main...${thopter!.branch}`);
  expect(comment).toContain(`Pull request: ${pullUrl}`);
  const page = `${world.config.HUB_PUBLIC_URL}/thopters/${thopter!.id}`;
  expect(comment).toContain(`Dashboard: ${page}`);
  expect(comment).toContain(`Session log: ${page}/log`);
  return { thopter: thopter!, pullUrl, page };
}
