import { expect, it } from "vitest";
import { FairQueue } from "../src/notifier/fair-queue.js";

it("keeps one item per owner, the newest, in the owner's first place", () => {
  const q = new FairQueue<string>();
  q.put("a", "a1");
  q.put("b", "b1");
  q.put("a", "a2");
  expect(q.size).toBe(2);
  expect([q.take(), q.take(), q.take()]).toEqual(["a2", "b1", undefined]);
});

it("serves the owner served least recently first, so a flooding owner cannot keep another waiting", () => {
  const q = new FairQueue<string>();
  q.put("a", "a1");
  expect(q.take()).toBe("a1"); // in flight
  q.put("a", "a2"); // the flood goes on while it is being posted
  q.put("b", "b1"); // another owner's item arrives after it
  expect(q.take()).toBe("b1");
  q.put("a", "a3"); // replaces a2, which was never posted
  q.put("b", "b2");
  q.put("c", "c1");
  expect([q.take(), q.take(), q.take(), q.take()]).toEqual(["c1", "a3", "b2", undefined]);
});
