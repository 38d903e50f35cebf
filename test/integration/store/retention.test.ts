import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "@thopter/hub/config";
import { Registry } from "@thopter/hub/registry/index";
import { type ReplyRecord, replyKey } from "@thopter/hub/requests/durable-comments";
import { RequestQueue } from "@thopter/hub/requests/queue";
import { Retention } from "@thopter/hub/requests/retention";
import { thopterIdsFor } from "@thopter/hub/scheduler/requests";
import { openStore, type Store } from "@thopter/hub/store/index";
import { WatchedStore } from "@thopter/hub/store/watched";
import type { CommandSource } from "@thopter/protocol";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startRedis } from "../../helpers/redis.js";

const log = pino({ level: "silent" });
const DAY = 86_400_000;
const REPO = "acme/widgets";
const start = { kind: "start", gc: "default", prompt: "default", count: 1, instructions: "" } as const;
const stop = { kind: "stop" } as const;

/** A clock the test moves: requests, records and replies get the time they would have had that many days ago. */
let clock = Date.now();
const now = () => new Date(clock);
const daysAgo = (days: number) => {
  clock = Date.now() - days * DAY;
};

const source = (commentId: number, issueNumber = 7): CommandSource => ({
  repo: REPO,
  issueNumber,
  commentId,
  author: "alice",
  authorAssociation: "OWNER",
  url: `https://github.com/${REPO}/issues/${issueNumber}#issuecomment-${commentId}`,
  via: "webhook",
  createdAt: now().toISOString(),
});

function reply(posted: boolean): ReplyRecord {
  return { repo: REPO, issueNumber: 7, body: "hello", createdAt: now().toISOString(), posted };
}

/** A redis-server for the Redis runs (one per file); each test uses its own namespace. */
let redis: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(async () => {
  await redis.stop();
});

let dir: string;
let namespaces = 0;
const stores: Store[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "retention-"));
  clock = Date.now();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

const kinds = {
  file: () => openStore(`file:${join(dir, "state")}`),
  redis: () => openStore(redis.url, { namespace: `retention-${process.pid}-${++namespaces}:` }),
};

describe.each(Object.entries(kinds))("retention on the %s store", (_kind, open) => {
  async function world() {
    const store = new WatchedStore(await open(), log);
    stores.push(store);
    const queue = new RequestQueue(store, now);
    const registry = await Registry.open(store, log, { checkpointMs: 3_600_000, now });
    return { store, queue, registry };
  }

  async function finished(queue: RequestQueue, commentId: number, state: "provisioned" | "failed" | "cancelled") {
    const { request } = await queue.create(source(commentId), "Widgets wobble", start);
    await queue.markAcknowledged(request.id);
    await queue.update(request.id, { state });
    return request;
  }

  it("removes exactly the old finished requests, posted replies and gone records; keeps open work", async () => {
    const { store, queue, registry } = await world();
    daysAgo(40);
    const oldDone = [
      await finished(queue, 1, "provisioned"),
      await finished(queue, 2, "failed"),
      await finished(queue, 3, "cancelled"),
    ];
    const oldStop = (await queue.create(source(4), "Widgets wobble", stop)).request;
    await queue.markAcknowledged(oldStop.id);
    await queue.update(oldStop.id, { state: "provisioned" });
    // Kept: still queued; provisioning; finished without its 👀; finished but its failure comment not out yet.
    const queued = (await queue.create(source(5), "Widgets wobble", start)).request;
    const provisioning = (await queue.create(source(6), "Widgets wobble", start)).request;
    await queue.update(provisioning.id, { state: "provisioning" });
    const unacknowledged = (await queue.create(source(7), "Widgets wobble", start)).request;
    await queue.update(unacknowledged.id, { state: "failed" });
    const failing = await finished(queue, 8, "failed");
    await store.put(replyKey(`${failing.key}/provision-failed`), reply(false));
    // Kept: finished long ago, but its thopter still runs (the record names it).
    const running = await finished(queue, 9, "provisioned");
    const [runningId] = thopterIdsFor(running);
    await registry.create({ ...record(runningId!, running.id), state: "requested" }, "made");
    await registry.transition(runningId!, "provisioning", "making");
    // Gone 40 days ago: removed with its request. Failed (not gone): kept.
    const gone = await finished(queue, 10, "failed");
    const [goneId] = thopterIdsFor(gone);
    await registry.create(record(goneId!, gone.id), "made");
    await registry.transition(goneId!, "gone", "destroyed");
    await registry.create(record("failed-1", "adopted"), "made");
    await registry.transition("failed-1", "failed", "boot failed");
    await store.put(replyKey("old-posted"), reply(true));
    await store.put(replyKey("old-pending"), reply(false));

    daysAgo(29);
    const recent = await finished(queue, 11, "provisioned");
    await registry.create(record("recent-gone", recent.id), "made");
    await registry.transition("recent-gone", "gone", "destroyed");
    await store.put(replyKey("recent-posted"), reply(true));
    clock = Date.now();

    const retention = new Retention({ store, queue, registry, days: 30, log, now });
    expect(await retention.pass()).toBe(oldDone.length + 1 + 1 + 1 + 1);

    const kept = [queued, provisioning, unacknowledged, failing, running, recent].map((r) => r.id).sort();
    expect((await queue.list()).map((r) => r.id).sort()).toEqual(kept);
    // The store agrees with memory: a restarted hub's queue reads the same.
    expect((await new RequestQueue(store).list()).map((r) => r.id).sort()).toEqual(kept);
    expect(
      (await store.list("replies/")).map((e) => decodeURIComponent(e.key.slice("replies/".length))).sort(),
    ).toEqual([`${failing.key}/provision-failed`, "old-pending", "recent-posted"].sort());
    expect(registry.get(goneId!)).toBeUndefined();
    expect(
      registry
        .list()
        .map((r) => r.id)
        .sort(),
    ).toEqual(["failed-1", "recent-gone", runningId].sort());
    const reopened = await Registry.open(store, log, { checkpointMs: 3_600_000 });
    expect(
      reopened
        .list()
        .map((r) => r.id)
        .sort(),
    ).toEqual(["failed-1", "recent-gone", runningId].sort());
    await reopened.close();
    // Nothing left to remove: a second pass removes nothing.
    expect(await retention.pass()).toBe(0);
    await registry.close();
  });

  it("is bounded: a backlog goes in passes of at most maxPerPass, then the timer keeps at it", async () => {
    const { store, queue } = await world();
    daysAgo(31);
    for (let i = 1; i <= 25; i++) await finished(queue, i, "provisioned");
    clock = Date.now();
    const bounded = new Retention({ store, queue, days: 30, log, now, maxPerPass: 10 });
    expect(await bounded.pass()).toBe(10);
    expect(await queue.list()).toHaveLength(15);

    // Started: the first pass at once, the next ones `busyDelayMs` apart while each hits the bound.
    const timed = new Retention({ store, queue, days: 30, log, now, maxPerPass: 10, busyDelayMs: 10 });
    timed.start();
    const deadline = Date.now() + 20_000;
    while ((await store.list("requests/")).length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await timed.stop();
    expect(await store.list("requests/")).toEqual([]);
    expect(await queue.list()).toEqual([]);
  });

  it("never runs again after stop, even mid-backlog", async () => {
    const { store, queue } = await world();
    daysAgo(31);
    for (let i = 1; i <= 5; i++) await finished(queue, i, "provisioned");
    clock = Date.now();
    const retention = new Retention({ store, queue, days: 30, log, now, maxPerPass: 1, busyDelayMs: 10 });
    retention.start();
    while ((await queue.list()).length === 5) await new Promise((r) => setTimeout(r, 5));
    await retention.stop();
    const left = (await queue.list()).length;
    await new Promise((r) => setTimeout(r, 200));
    expect((await queue.list()).length).toBe(left);
    expect(left).toBeGreaterThan(0);
  });
});

function record(id: string, requestId: string) {
  return {
    id,
    requestId,
    repo: REPO,
    issueNumber: 7,
    issueTitle: "Widgets wobble",
    branch: `thopter/7--${id}`,
    gc: "default",
    prompt: "default",
    state: "requested" as const,
    machine: null,
  };
}

describe("STORE_RETENTION_DAYS", () => {
  const env = {
    GITHUB_INTEGRATION_JSON: JSON.stringify({
      repositories: { [REPO]: { issuesToken: "issues-token-aaaa", coderToken: "coder-token-bbbb" } },
      agentUser: { name: "Thopter Bot", email: "bot@example.com" },
    }),
  };

  it("defaults to 30 days and takes a whole number of days", () => {
    expect(loadConfig(env).STORE_RETENTION_DAYS).toBe(30);
    expect(loadConfig({ ...env, STORE_RETENTION_DAYS: "90" }).STORE_RETENTION_DAYS).toBe(90);
  });

  it.each(["1", "0", "-3", "2.5", "a month", "40000"])("refuses %j in one line naming the variable", (value) => {
    let error: unknown;
    try {
      loadConfig({ ...env, STORE_RETENTION_DAYS: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain("STORE_RETENTION_DAYS");
    expect(message).toContain("2 to 36500");
    expect(message).not.toMatch(/[\r\n]/);
  });
});
