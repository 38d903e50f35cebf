import { afterEach, beforeEach, expect, it } from "vitest";
import { type RedisServer, startRedis } from "../../helpers/redis.js";
import { withGatedHub } from "./gate.js";
import { REPO } from "./harness.js";

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
      const metrics = await (await fetch(`${hub.url}/metrics`)).text();
      expect(metrics).toMatch(/thopter_hub_part_up\{part="store",name="store"\} 0/);
      expect(metrics).toMatch(new RegExp(`thopter_hub_part_up\\{part="github",name="${REPO}"\\} 1`));
      expect(metrics).toMatch(/thopter_hub_part_up\{part="provider",name="local"\} 1/);
      expect(await (await fetch(`${hub.url}/`)).text()).toMatch(/⚠ store is failing: store \w+/);
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
      github: { [REPO]: { state: "failing", detail: expect.stringMatching(/Not Found/) } },
      failing: [REPO],
    });
    gate.open();
    await hub.pollNow();
    expect(await json(`${hub.url}/healthz`)).toMatchObject({ status: "ok", failing: [] });
  });
});
