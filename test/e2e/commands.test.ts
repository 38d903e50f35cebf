import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../demo/world.js";
import { isAlive, machinePid } from "../integration/hub-lifecycle/harness.js";
import { asRoot, exists, ROOT_ONLY, reactions, until, useWorld } from "./harness.js";

const world = useWorld();

describe("commands a user writes on the issue", () => {
  it("refuses /thopter from someone without write access: one reply, no thopter", async () => {
    const command = world.comment("/thopter", { login: "mallory", association: "NONE" });
    await until(() => world.replies().length === 1, 20_000, "the refusal");
    expect(world.replies()[0]).toMatch(/@mallory/);
    // Further poll cycles add nothing: the refusal is said once.
    await world.hub.pollNow();
    await world.hub.pollNow();
    expect(world.replies()).toHaveLength(1);
    expect(await world.thopters()).toEqual([]);
    expect(reactions(world, command, "rocket")).toBe(0);
    expect(world.peer.pulls(REPO)).toEqual([]);
  });
});

describe.skipIf(!asRoot)(`\`/thopter stop\` ${ROOT_ONLY}`, () => {
  it("`/thopter stop` stops a working thopter: its machine is gone", async () => {
    const start = world.comment("/thopter");
    await until(() => reactions(world, start, "rocket") === 1, 30_000, "🚀 on the command");
    const [thopter] = await world.thopters();
    const machine = join(world.config.LOCAL_THOPTER_ROOT, thopter!.id);
    const pid = await machinePid(world.config.LOCAL_THOPTER_ROOT, thopter!.id);
    // Claude is at work (its SessionStart hook reported) when the stop comes.
    await until(async () => (await world.thopters())[0]?.state === "working", 60_000, "the thopter to work");

    const stop = world.comment("/thopter stop");
    await until(() => reactions(world, stop, "eyes") === 1, 20_000, "👀 on /thopter stop");
    await until(async () => (await world.thopters())[0]?.state === "gone", 30_000, "the thopter to be gone");
    expect(await exists(machine)).toBe(false);
    await until(() => !isAlive(pid), 15_000, "the thopter's processes to end");
    expect(world.replies().filter((r) => r.startsWith("✅"))).toEqual([]);
  }, 90_000);
});
