import { describe, expect, it } from "vitest";
import { REPO } from "../demo/world.js";
import { asRoot, ROOT_ONLY, useWorld } from "./harness.js";
import { runLoop } from "./loop.js";

// The same loop with a GitHub App instead of PATs: every GitHub call is made with installation tokens.
const world = useWorld({ githubApp: true });

describe.skipIf(!asRoot)(`/thopter with GitHub App authentication, local provider ${ROOT_ONLY}`, () => {
  it("runs the whole loop as the App's bot: reactions, push, draft PR and comment by thopter-swarm[bot]", async () => {
    const { thopter } = await runLoop(world, { sessionLog: false });
    const [head] = await world.peer.log(REPO, thopter.branch);
    expect(head).toMatchObject({ authorName: world.bot });
    expect(head?.authorEmail).toMatch(/^\d+\+thopter-swarm\[bot\]@users\.noreply\.github\.com$/);
    expect(world.peer.pulls(REPO)[0]).toMatchObject({ user: { login: world.bot } });
    // Every token the hub and the broker used was an installation token minted for this repository.
    expect(world.peer.requestLog.filter((r) => r.path.endsWith("/access_tokens")).length).toBeGreaterThan(1);
  }, 180_000);
});
