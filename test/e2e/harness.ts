import { access } from "node:fs/promises";
import { afterEach, beforeEach } from "vitest";
import { REPO, startWorld, type World, type WorldOptions } from "../demo/world.js";
import { assertNoProcessesMentioning } from "../helpers/leftovers.js";
import { until } from "../integration/hub/harness.js";

export { until };

/** Thopters boot only as root: the push broker runs as root and the agent as `thopter` (CI is root). */
export const asRoot = process.getuid?.() === 0;
export const ROOT_ONLY = "(root only: the push broker runs as root, the agent as thopter)";

/**
 * Per test: a fresh demo world (peers, hub, temp folder), closed afterwards and checked against GitHub's API
 * description; no process started under its folder (thopters, brokers, Claude) may outlive it.
 */
export function useWorld(options: WorldOptions = {}): World {
  const world = {} as World;
  beforeEach(async () => {
    Object.assign(world, await startWorld(options));
  });
  afterEach(async () => {
    await world.close();
    await assertNoProcessesMentioning(world.dir);
    world.peer.assertClean();
  });
  return world;
}

/** Reactions of `content` on a comment. */
export function reactions(world: World, comment: number, content: string): number {
  return world.peer.reactions(REPO, { comment }).filter((r) => r.content === content).length;
}

/** Waits for the bot's completion comment (the first reply starting with the state's headline). */
export function completion(world: World, timeoutMs = 100_000): Promise<string> {
  return until(
    () => world.replies().find((r) => r.startsWith("✅")) ?? "",
    timeoutMs,
    `the completion comment (replies: ${JSON.stringify(world.replies())})`,
  );
}

/** Whether a path exists (a machine's folder, the demo's working folder). */
export const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );
