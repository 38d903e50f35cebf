import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { openStore, type Store } from "../src/store/index.js";
import { StoreError, StoreLostDataError, WatchedStore } from "../src/store/watched.js";

let dir: string;
let inner: Store;
let store: WatchedStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "store-watched-"));
  inner = await openStore(`file:${join(dir, "state")}`);
  store = new WatchedStore(inner, pino({ level: "silent" }));
  await store.watch(3_600_000);
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

it("a store rolled back to an older copy (its generation marker went back) is lost for good", async () => {
  const old = await inner.get("meta/generation");
  await store.checkGeneration();
  await store.put("requests/r1", { id: "r1" });
  await inner.put("meta/generation", old); // restored from an older backup
  await expect(store.checkGeneration()).rejects.toThrow(StoreLostDataError);
  expect(store.health).toMatchObject({ state: "lost", detail: expect.stringMatching(/went back to 1 from 2/) });
  // Nothing more is read from or written to a store the hub cannot trust.
  await expect(store.get("requests/r1")).rejects.toThrow(/the store lost data/);
  await expect(store.put("requests/r2", {})).rejects.toThrow(StoreLostDataError);
});

it("a store emptied under the hub is lost; the same store left alone stays ok", async () => {
  await store.checkGeneration();
  expect(store.health.state).toBe("ok");
  await inner.delete("meta/generation");
  await expect(store.checkGeneration()).rejects.toThrow(/its generation marker is gone/);
  expect(store.health.state).toBe("lost");
});

it("a failing operation is a StoreError naming the store's side, and the store is ok again once one succeeds", async () => {
  // Redis going away is the real case (test/integration/hub/health-parts.test.ts); here the file store refuses a value.
  const error = await store.put("requests/bad", undefined).catch((err: unknown) => err);
  expect(error).toBeInstanceOf(StoreError);
  expect(String(error)).toMatch(/^StoreError: store put requests\/bad failed: store value must be JSON/);
  expect(store.health.state).toBe("failing");
  await store.put("requests/ok", {});
  expect(store.health.state).toBe("ok");
});
