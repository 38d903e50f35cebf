import { afterEach, beforeEach, expect, it } from "vitest";
import { type RedisServer, startRedis } from "../../helpers/redis.js";
import { FlyPeer } from "../../peers/fly/index.js";
import { withGatedHub } from "./gate.js";
import { hubGet, REPO, until } from "./harness.js";

// /healthz, /metrics and the dashboard name the part that fails: the store, GitHub per repository, the provider.
let redis: RedisServer;
beforeEach(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await redis.stop();
});

// biome-ignore lint/suspicious/noExplicitAny: the JSON of /healthz, checked field by field
const json = async (url: string): Promise<any> => (await fetch(url)).json();

it("a store that fails is the store on /healthz, /metrics and the dashboard, never the repository", async () => {
  await withGatedHub(
    {},
    async ({ hub }) => {
      expect(await json(`${hub.url}/healthz`)).toMatchObject({
        status: "ok",
        store: { state: "ok" },
        github: { [REPO]: { state: "ok" } },
        provider: { kind: "local", state: "ok" },
        failing: [],
      });

      await redis.stop(); // Redis gone: every store call fails
      await hub.pollNow();
      const health = await json(`${hub.url}/healthz`);
      expect(health).toMatchObject({
        status: "degraded",
        store: { state: "failing" },
        github: { [REPO]: { state: "ok" } },
        failing: [],
      });
      expect(health.store.detail).toMatch(/^store \w+ .* failed: /);
      const metrics = await (await hubGet(hub, "/metrics")).text();
      expect(metrics).toMatch(/thopter_hub_part_up\{part="store",name="store"\} 0/);
      expect(metrics).toMatch(new RegExp(`thopter_hub_part_up\\{part="github",name="${REPO}"\\} 1`));
      expect(metrics).toMatch(/thopter_hub_part_up\{part="provider",name="local"\} 1/);
      expect(await (await hubGet(hub, "/")).text()).toMatch(/⚠ store is failing: store \w+/);
    },
    { STORE_URL: redis.url },
  );
});

it("a repository GitHub refuses is that repository on /healthz, with what failed, and the store stays ok", async () => {
  await withGatedHub({ retryUnitMs: 5 }, async ({ hub, gate }) => {
    gate.notFound("GET", /\/issues\/comments\?/);
    await hub.pollNow();
    const health = await json(`${hub.url}/healthz`);
    expect(health).toMatchObject({
      status: "degraded",
      store: { state: "ok" },
      github: {
        [REPO]: {
          state: "failing",
          problem: "not-found",
          detail: expect.stringMatching(/^404 no such repository or no access/),
        },
      },
      failing: [REPO],
    });
    gate.open();
    await hub.pollNow();
    expect(await json(`${hub.url}/healthz`)).toMatchObject({ status: "ok", failing: [] });
  });
});

it("a Fly that refuses machines is the provider on /healthz with what it said; the next good create clears it", async () => {
  const fly = await FlyPeer.start({ transitionMs: 20 });
  try {
    const env = {
      PROVIDER: "fly",
      FLY_API_URL: fly.url,
      FLY_API_TOKEN: fly.token,
      APP_NAME: fly.app,
      THOPTER_IMAGE: "registry.fly.io/thopters:test",
      THOPTER_ENTRYPOINT: "/bin/true",
    };
    await withGatedHub(
      {},
      async ({ hub, peer, issue }) => {
        fly.inject({ match: "Machines_create", status: 422, times: 1, body: { error: "no capacity in iad" } });
        peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" });
        await hub.pollNow();
        const provider = await until(async () => {
          const health = await json(`${hub.url}/healthz`);
          return health.provider.state === "failing" && health;
        });
        expect(provider).toMatchObject({
          status: "degraded",
          store: { state: "ok" },
          failing: [],
          provider: { kind: "fly", detail: expect.stringMatching(/no capacity in iad/) },
        });
        expect(await (await hubGet(hub, "/metrics")).text()).toMatch(
          /thopter_hub_part_up\{part="provider",name="fly"\} 0/,
        );
        peer.addComment(REPO, issue, { body: "/thopter", author: "alice", association: "OWNER" });
        await hub.pollNow();
        await until(async () => (await json(`${hub.url}/healthz`)).status === "ok", 30_000, "the provider to be ok");
        await hub.thopters!.scheduler.idle();
      },
      env,
    );
  } finally {
    await fly.close();
  }
});
