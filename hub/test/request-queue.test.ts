import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CommandSource } from "@thopter/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RequestQueue } from "../src/requests/queue.js";
import { openStore, type Store } from "../src/store/index.js";

const source = (commentId: number, createdAt = "2026-01-01T10:00:00Z"): CommandSource => ({
  repo: "acme/widgets",
  issueNumber: 7,
  commentId,
  author: "alice",
  authorAssociation: "OWNER",
  url: `https://github.com/acme/widgets/issues/7#issuecomment-${commentId}`,
  via: "webhook",
  createdAt,
});
const start = { kind: "start", gc: "default", prompt: "default", count: 1, instructions: "" } as const;

let dir: string;
let store: Store;
let queue: RequestQueue;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "request-queue-"));
  store = await openStore(`file:${join(dir, "state")}`);
  queue = new RequestQueue(store);
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe("request queue", () => {
  it("tells its listeners of a new request once, and of its 👀 once", async () => {
    const created: string[] = [];
    const acknowledged: string[] = [];
    queue.on("created", (r) => created.push(r.id));
    queue.on("acknowledged", (id) => acknowledged.push(id));

    const { request } = await queue.create(source(1), "Wobble", start);
    expect((await queue.create(source(1), "Wobble", start)).created).toBe(false);
    await queue.markAcknowledged(request.id);
    await queue.markAcknowledged(request.id);
    expect(created).toEqual([request.id]);
    expect(acknowledged).toEqual([request.id]);
  });

  it("keeps both changes when the 👀 and the scheduler change one request at the same moment", async () => {
    const { request } = await queue.create(source(2), "Wobble", start);
    await Promise.all([
      queue.markAcknowledged(request.id),
      queue.update(request.id, { state: "provisioning", thopterIds: ["abc-1"] }),
      queue.update(request.id, { stateReason: "1 of 1 thopters started" }),
    ]);
    expect(await queue.get(request.id)).toMatchObject({
      acknowledged: true,
      state: "provisioning",
      thopterIds: ["abc-1"],
      stateReason: "1 of 1 thopters started",
    });
  });

  it("lists every request oldest first, its own later writes included, as copies", async () => {
    const first = (await queue.create(source(3), "Wobble", start)).request;
    expect((await queue.list()).map((r) => r.id)).toEqual([first.id]);
    const second = (await queue.create(source(4), "Spin", start)).request;
    await queue.update(first.id, { state: "provisioned" });
    await queue.markAcknowledged(second.id);
    const listed = await queue.list();
    expect(listed.map((r) => [r.id, r.state, r.acknowledged])).toEqual([
      [first.id, "provisioned", false],
      [second.id, "queued", true],
    ]);
    listed[1]!.state = "failed";
    expect((await queue.list())[1]!.state).toBe("queued");
    // A restarted hub reads the same from the store.
    expect(await new RequestQueue(store).list()).toEqual(await queue.list());
  });

  it("lists in the order commands were written on GitHub (comment id breaks ties), not the order stored", async () => {
    const late = (await queue.create(source(30, "2026-01-01T10:00:05Z"), "Wobble", start)).request;
    const tie = (await queue.create(source(20, "2026-01-01T10:00:01Z"), "Wobble", start)).request;
    const early = (await queue.create(source(40, "2026-01-01T10:00:01Z"), "Wobble", start)).request;
    const body = (await queue.create({ ...source(1, "2026-01-01T10:00:01Z"), commentId: null }, "Wobble", start))
      .request;
    expect((await queue.list()).map((r) => r.id)).toEqual([body.id, tie.id, early.id, late.id]);
  });

  it("its view holds the open requests and each issue's stops, current through changes and removals", async () => {
    const done = (await queue.create(source(6, "2026-01-01T10:00:01Z"), "Wobble", start)).request;
    const open = (await queue.create(source(7, "2026-01-01T10:00:02Z"), "Wobble", start)).request;
    const stop = (await queue.create(source(8, "2026-01-01T10:00:03Z"), "Wobble", { kind: "stop" })).request;
    const elsewhere = { ...source(9, "2026-01-01T10:00:04Z"), issueNumber: 8 };
    const otherStop = (await queue.create(elsewhere, "Other", { kind: "stop" })).request;
    await queue.update(done.id, { state: "provisioned" });
    const view = await queue.view();
    expect(view.open().map((r) => r.id)).toEqual([open.id, stop.id, otherStop.id]);
    expect(view.stopsOnIssue(open.source).map((r) => r.id)).toEqual([stop.id]);
    // Finished, the stop leaves the open requests but still cancels earlier starts on its issue.
    await queue.update(stop.id, { state: "provisioned" });
    expect(view.open().map((r) => r.id)).toEqual([open.id, otherStop.id]);
    expect(view.stopsOnIssue(open.source).map((r) => r.id)).toEqual([stop.id]);
    // Removed (retention), it is gone from memory and store alike; reads are copies.
    await queue.remove(stop.id);
    expect(view.stopsOnIssue(open.source)).toEqual([]);
    expect(view.get(stop.id)).toBeUndefined();
    expect(await new RequestQueue(store).get(stop.id)).toBeUndefined();
    view.get(open.id)!.state = "failed";
    expect(view.get(open.id)!.state).toBe("queued");
  });

  it("refuses to change a request the store no longer holds, and says the store lost data", async () => {
    const { request } = await queue.create(source(5), "Wobble", start);
    await queue.list();
    const lost: string[] = [];
    queue.on("lost", (err) => lost.push(err.message));
    await store.delete(`requests/${request.id}`); // what a Redis restarted without persistence does
    await expect(queue.update(request.id, { state: "provisioned" })).rejects.toThrow(
      `request ${request.id} is gone from the store although this hub stored it`,
    );
    await expect(queue.markAcknowledged(request.id)).rejects.toThrow(/gone from the store/);
    expect(lost).toHaveLength(2);
  });
});
