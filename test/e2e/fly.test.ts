import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { REPO, startWorld, type World } from "../demo/world.js";
import { assertNoProcessesMentioning } from "../helpers/leftovers.js";
import { FlyPeer } from "../peers/fly/index.js";
import { asRoot, ROOT_ONLY, reactions, until } from "./harness.js";
import { runLoop } from "./loop.js";

// The same loop with PROVIDER=fly: the Fly peer runs each machine as a local process of thopter/entrypoint.sh.
const ENTRYPOINT = resolve(import.meta.dirname, "../../thopter/entrypoint.sh");
let fly: FlyPeer;
let machines = "";
const world = {} as World;
/** Set by a suite before its tests: the same loop with PATs or with a GitHub App. */
let githubApp = false;

beforeEach(async () => {
  machines = await mkdtemp(join(tmpdir(), "thopter-e2e-fly-"));
  // The agent user must reach its machine's files under this folder.
  await chmod(machines, 0o755);
  fly = await FlyPeer.start({
    transitionMs: 20,
    run: { root: machines, defaultCommand: [ENTRYPOINT], stopGraceMs: 2_000 },
  });
  Object.assign(
    world,
    await startWorld({
      githubApp,
      hubEnv: {
        PROVIDER: "fly",
        FLY_API_URL: fly.url,
        FLY_API_TOKEN: fly.token,
        APP_NAME: fly.app,
        THOPTER_IMAGE: "registry.fly.io/thopters:e2e",
        REGION: "iad",
      },
    }),
  );
});
afterEach(async () => {
  await world.close();
  await fly.close();
  await rm(machines, { recursive: true, force: true });
  await assertNoProcessesMentioning(machines);
  await assertNoProcessesMentioning(world.dir);
  world.peer.assertClean();
  fly.assertClean();
});

const live = () => fly.machines().filter((m) => m.state !== "destroyed");

describe.skipIf(!asRoot)(`/thopter with the Fly provider (Fly peer running machines locally) ${ROOT_ONLY}`, () => {
  it("the whole loop on a Fly machine; `/thopter stop` then destroys the machine and its volume", async () => {
    // Not the session log: a Fly machine's address is its private DNS name, which only the hub's network resolves.
    const { thopter } = await runLoop(world, { sessionLog: false });
    expect(thopter.machine).toMatchObject({ provider: "fly", id: live()[0]?.id });

    const stop = world.comment("/thopter stop");
    await until(() => reactions(world, stop, "eyes") === 1, 20_000, "👀 on /thopter stop");
    await until(async () => (await world.thopters())[0]?.state === "gone", 30_000, "the thopter to be gone");
    expect(live()).toEqual([]);
    expect(fly.volumes().filter((v) => v.state !== "destroyed")).toEqual([]);
  }, 150_000);
});

describe.skipIf(!asRoot)(`/thopter with GitHub App authentication on the Fly provider ${ROOT_ONLY}`, () => {
  beforeAll(() => {
    githubApp = true;
  });

  it("runs the whole loop on a Fly machine as the App's bot, with installation tokens only", async () => {
    const { thopter } = await runLoop(world, { sessionLog: false });
    expect(thopter.machine).toMatchObject({ provider: "fly", id: live()[0]?.id });
    const [head] = await world.peer.log(REPO, thopter.branch);
    expect(head).toMatchObject({ authorName: world.bot });
    expect(world.peer.pulls(REPO)[0]).toMatchObject({ user: { login: world.bot } });
    expect(world.peer.requestLog.filter((r) => r.path.endsWith("/access_tokens")).length).toBeGreaterThan(1);
  }, 150_000);
});
