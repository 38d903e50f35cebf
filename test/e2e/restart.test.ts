import { describe, expect, it } from "vitest";
import { FIXED, REPO, SUMMARY } from "../demo/world.js";
import { asRoot, completion, ROOT_ONLY, reactions, until, useWorld } from "./harness.js";

/** Claude stops just before its push until the test lets it go on. */
let atPush = false;
let release: () => void;
const goOn = new Promise<void>((r) => {
  release = r;
});
const world = useWorld({
  beforePush: () => {
    atPush = true;
    return goOn;
  },
});

describe.skipIf(!asRoot)(`a hub restart while Claude works ${ROOT_ONLY}`, () => {
  it("loses nothing: the new hub adopts the thopter, gets its done report and comments exactly once", async () => {
    const command = world.comment("/thopter");
    await until(() => atPush, 90_000, "Claude at its push (boot, then the first turns)");
    const [before] = await world.thopters();
    expect(before?.state).toBe("working");

    await world.restartHub();
    const adopted = await world.thopters();
    expect(adopted.map((t) => [t.id, t.state])).toEqual([[before!.id, "working"]]);
    release();

    const comment = await completion(world);
    expect(comment).toContain(SUMMARY);
    expect(await world.peer.readFile(REPO, before!.branch, "src/add.js")).toBe(FIXED);
    expect(world.peer.pulls(REPO)).toHaveLength(1);
    // More poll cycles of the new hub re-post nothing and provision nothing.
    await world.hub.pollNow();
    await world.hub.pollNow();
    expect(world.replies()).toEqual([comment]);
    expect(reactions(world, command, "rocket")).toBe(1);
    expect((await world.thopters()).map((t) => [t.id, t.state])).toEqual([[before!.id, "done"]]);
  }, 150_000);
});
