import { openStore } from "@thopter/hub/store/index";
import { afterAll, beforeAll } from "vitest";
import { type RedisServer, startRedis } from "../../helpers/redis.js";
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
