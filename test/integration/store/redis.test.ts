import { openStore } from "@thopter/hub/store/index";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RedisServer, startRedis } from "../../helpers/redis.js";
import { tempDir } from "../../helpers/tmp.js";
import { describeStoreContract } from "./contract.js";

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.stop());

let locations = 0;
// One server for the file; each test gets its own key namespace on it.
describeStoreContract("redis", async () => {
  const namespace = `t${++locations}:`;
  return () => openStore(redis.url, { namespace });
});

it("keeps namespaces apart on one server", async () => {
  const a = await openStore(redis.url, { namespace: "ns-a:" });
  const b = await openStore(redis.url, { namespace: "ns-b:" });
  await a.put("k", "a");
  expect(await b.get("k")).toBeUndefined();
  expect(await b.putIfAbsent("k", "b")).toBe(true);
  expect(await a.list("")).toEqual([{ key: "k", value: "a" }]);
  await Promise.all([a.close(), b.close()]);
});

it("reports a value that is not JSON by its Redis key", async () => {
  const store = await openStore(redis.url, { namespace: "bad:" });
  await store.put("requests/1", { ok: true });
  const raw = new Redis(redis.url);
  await raw.set("bad:v:requests/1", "{oops");
  await raw.quit();
  await expect(store.get("requests/1")).rejects.toThrow(
    /^Redis value bad:v:requests\/1 is not JSON \(.*\); delete or fix it$/,
  );
  await expect(store.list("requests/")).rejects.toThrow(/is not JSON/);
  await store.close();
});

it("startRedis says how to install redis-server when it is missing", async () => {
  const path = process.env.PATH;
  process.env.PATH = tempDir();
  try {
    await expect(startRedis()).rejects.toThrow(
      /^redis-server not found on PATH: install it \(apt-get install -y redis-server\)$/,
    );
  } finally {
    process.env.PATH = path;
  }
});
