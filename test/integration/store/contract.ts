import type { Store } from "@thopter/hub/store/index";
import { describe, expect, it, onTestFinished } from "vitest";

/** Opens a new handle on one backing location (folder, Redis namespace); every call sees the same data. */
export type StoreOpener = () => Promise<Store>;

/** Keys that would break a naive implementation: path tricks, glob and regex characters, Unicode. */
export const AWKWARD_KEYS = [
  "a",
  "a/b",
  "a/b/c",
  "a%2Fb",
  "a%2fb",
  "Case/Key",
  "case/key",
  "caret^x",
  "..",
  "../../escape",
  ".hidden",
  "~tilde",
  "with space",
  "star*",
  "question?",
  "[brackets]",
  "back\\slash",
  "new\nline",
  "ünïcødé/ключ",
  "emoji/🚀",
  "\u{e000}private",
  "x".repeat(1000),
];

/**
 * The behaviour every `Store` implementation must show, as a vitest suite. `freshLocation` returns an opener
 * for a new, empty location each time it is called.
 */
export function describeStoreContract(name: string, freshLocation: () => Promise<StoreOpener>): void {
  async function openFresh(): Promise<{ store: Store; open: StoreOpener }> {
    const open = await freshLocation();
    const store = await open();
    onTestFinished(() => store.close());
    return { store, open };
  }

  describe(`Store contract: ${name}`, () => {
    it("returns undefined for a key never written", async () => {
      const { store } = await openFresh();
      expect(await store.get("requests/none")).toBeUndefined();
    });

    it("round-trips JSON values of every kind", async () => {
      const { store } = await openFresh();
      const values = [{ a: 1, b: [true, null, "x"], c: { d: "ü🚀" } }, [1, 2], "text", 0, -1.5, true, false, null];
      for (const [i, value] of values.entries()) await store.put(`v/${i}`, value);
      for (const [i, value] of values.entries()) expect(await store.get(`v/${i}`)).toEqual(value);
    });

    it("overwrites on put", async () => {
      const { store } = await openFresh();
      await store.put("cursor/acme/w", { since: "1" });
      await store.put("cursor/acme/w", { since: "2" });
      expect(await store.get("cursor/acme/w")).toEqual({ since: "2" });
    });

    it("putIfAbsent creates once and leaves an existing value untouched", async () => {
      const { store } = await openFresh();
      expect(await store.putIfAbsent("requests/1", { n: 1 })).toBe(true);
      expect(await store.putIfAbsent("requests/1", { n: 2 })).toBe(false);
      expect(await store.get("requests/1")).toEqual({ n: 1 });
      await store.put("requests/2", { n: 3 });
      expect(await store.putIfAbsent("requests/2", { n: 4 })).toBe(false);
      expect(await store.get("requests/2")).toEqual({ n: 3 });
    });

    it("putIfAbsent has exactly one winner among racing handles", async () => {
      const { store, open } = await openFresh();
      const other = await open();
      onTestFinished(() => other.close());
      const racers = Array.from({ length: 40 }, (_, i) => (i % 2 ? store : other).putIfAbsent("race", { i }));
      const results = await Promise.all(racers);
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      expect(winners).toHaveLength(1);
      expect(await store.get("race")).toEqual({ i: winners[0] });
    });

    it("applies operations in call order, even when nobody awaits between them", async () => {
      const { store } = await openFresh();
      const calls: Array<Promise<unknown>> = [];
      for (let i = 0; i < 30; i++) calls.push(store.put("registry/t1", { state: i }));
      calls.push(store.put("gone", 1), store.delete("gone"));
      const read = store.get("registry/t1");
      const listed = store.list("");
      await Promise.all(calls);
      expect(await read).toEqual({ state: 29 });
      expect(await listed).toEqual([{ key: "registry/t1", value: { state: 29 } }]);
      expect(await store.get("gone")).toBeUndefined();
    });

    it("deletes, tolerates deleting a missing key, and lets the key be created again", async () => {
      const { store } = await openFresh();
      await store.put("k", 1);
      await store.delete("k");
      await store.delete("k");
      expect(await store.get("k")).toBeUndefined();
      expect(await store.list("k")).toEqual([]);
      expect(await store.putIfAbsent("k", 2)).toBe(true);
    });

    it("lists exactly the keys with the prefix, sorted by key", async () => {
      const { store } = await openFresh();
      const keys = ["requests/b", "requests/a", "requests/a/1", "requestsX", "req", "cursor/acme/w", "zzz"];
      await Promise.all(keys.map((k) => store.put(k, { k })));
      const listed = await store.list<{ k: string }>("requests/");
      expect(listed).toEqual(["requests/a", "requests/a/1", "requests/b"].map((k) => ({ key: k, value: { k } })));
      expect((await store.list("req")).map((e) => e.key)).toEqual(
        ["req", "requestsX", "requests/a", "requests/a/1", "requests/b"].sort(),
      );
      expect((await store.list("")).map((e) => e.key)).toEqual([...keys].sort());
      expect(await store.list("nothing/")).toEqual([]);
    });

    it("treats keys literally: path tricks, glob characters, Unicode, long keys", async () => {
      const { store } = await openFresh();
      await Promise.all(AWKWARD_KEYS.map((k) => store.put(k, { k })));
      for (const k of AWKWARD_KEYS) expect(await store.get(k)).toEqual({ k });
      expect((await store.list("")).map((e) => e.key)).toEqual([...AWKWARD_KEYS].sort());
      // Glob and regex characters in a prefix match only themselves.
      expect((await store.list("star*")).map((e) => e.key)).toEqual(["star*"]);
      expect((await store.list("[")).map((e) => e.key)).toEqual(["[brackets]"]);
      expect((await store.list("a/")).map((e) => e.key)).toEqual(["a/b", "a/b/c"]);
      expect((await store.list("xxx")).map((e) => e.key)).toEqual(["x".repeat(1000)]);
      expect((await store.list("emoji/")).map((e) => e.key)).toEqual(["emoji/🚀"]);
    });

    it("refuses empty keys and values JSON cannot hold", async () => {
      const { store } = await openFresh();
      await expect(store.put("", 1)).rejects.toThrow(/key/);
      await expect(store.put("k", undefined)).rejects.toThrow(/JSON/);
      await expect(store.putIfAbsent("k", () => 1)).rejects.toThrow(/JSON/);
      expect(await store.list("")).toEqual([]);
    });

    it("keeps everything across close and reopen", async () => {
      const { store, open } = await openFresh();
      await store.put("a/1", { x: 1 });
      await store.putIfAbsent("a/2", { x: 2 });
      await store.put("a/3", { x: 3 });
      await store.delete("a/3");
      await store.close();
      const reopened = await open();
      onTestFinished(() => reopened.close());
      expect(await reopened.list("a/")).toEqual([
        { key: "a/1", value: { x: 1 } },
        { key: "a/2", value: { x: 2 } },
      ]);
    });

    it("holds a few thousand keys and lists them all in order", async () => {
      const { store } = await openFresh();
      const keys = Array.from({ length: 2000 }, (_, i) => `requests/${String(i).padStart(5, "0")}`);
      await Promise.all(keys.map((k, i) => store.put(k, { i, body: "x".repeat(200) })));
      const listed = await store.list<{ i: number }>("requests/");
      expect(listed.map((e) => e.key)).toEqual(keys);
      expect(listed.every((e, i) => e.value.i === i)).toBe(true);
    });

    it("refuses work after close", async () => {
      const { store } = await openFresh();
      await store.close();
      await expect(store.get("k")).rejects.toThrow();
      await expect(store.put("k", 1)).rejects.toThrow();
    });
  });
}
