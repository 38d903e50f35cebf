import { FlyApiError } from "@thopter/fly";
import { afterEach, describe, expect, it } from "vitest";
import { type FlyHarness, machineRequest, startFly } from "./harness.js";

let fly: FlyHarness | undefined;
afterEach(async () => {
  await fly?.close();
  fly = undefined;
});

describe("Fly client under failures and rate limits", () => {
  it("waits out a 429 on create for retry-after and makes exactly one machine", async () => {
    fly = await startFly();
    fly.peer.inject({ match: "Machines_create", status: 429, times: 2, headers: { "retry-after": "0" } });
    const machine = await fly.client.createMachine(machineRequest("limited"));
    expect(fly.peer.machines().map((m) => m.id)).toEqual([machine.id]);
    expect(fly.peer.stats().byOperation.Machines_create).toBe(3);
    expect(fly.client.stats()).toMatchObject({ retries: 2, byStatus: { 429: 2, 200: 1 } });
  });

  it("makes exactly one machine when a 500 comes back after Fly already created it", async () => {
    fly = await startFly();
    fly.peer.inject({ match: "Machines_create", status: 500, after: true });
    const machine = await fly.client.createMachine(machineRequest("lost-response"));
    expect(machine.name).toBe("lost-response");
    expect(fly.peer.machines().map((m) => m.id)).toEqual([machine.id]);
    // The retry looked the name up and found the machine, so it never posted a second create.
    expect(fly.peer.stats().byOperation).toMatchObject({ Machines_create: 1, Machines_list: 1 });
  });

  it("makes exactly one machine when 5xx come back before Fly created anything", async () => {
    fly = await startFly();
    fly.peer.inject({ match: "Machines_create", status: 503, times: 2 });
    const machine = await fly.client.createMachine(machineRequest("flaky"));
    expect(fly.peer.machines().map((m) => m.id)).toEqual([machine.id]);
    expect(fly.peer.stats().byOperation).toMatchObject({ Machines_create: 3, Machines_list: 2 });
  });

  it("makes exactly one machine when the connection drops after Fly created it", async () => {
    fly = await startFly();
    fly.peer.inject({ match: "Machines_create", drop: true, after: true });
    const machine = await fly.client.createMachine(machineRequest("dropped"));
    expect(fly.peer.machines().map((m) => m.id)).toEqual([machine.id]);
    expect(fly.client.stats().byStatus[0]).toBe(1);
  });

  it("retries a read whose connection dropped", async () => {
    fly = await startFly();
    fly.peer.inject({ match: "Volumes_list", drop: true, times: 2 });
    expect(await fly.client.listVolumes()).toEqual([]);
    expect(fly.peer.stats().byOperation.Volumes_list).toBe(3);
  });

  it("abandons a request that hangs and repeats it, timing it from when it was sent, not queued", async () => {
    fly = await startFly({}, { requestTimeoutMs: 1500, rateLimits: { default: { perSecond: 0.5, burst: 1 } } });
    const machine = await fly.client.createMachine(machineRequest("slow"));
    fly.peer.inject({ match: "Machines_show", delayMs: 5000 });
    expect((await fly.client.getMachine(machine.id!)).id).toBe(machine.id);
    expect(fly.client.stats().byStatus[0]).toBe(1); // the hung attempt, aborted

    // These wait 2 and 4 s for a token, longer than the request timeout: neither may be aborted for it.
    await Promise.all([1, 2].map((i) => fly!.client.createMachine(machineRequest(`queued-${i}`))));
    expect(fly.client.stats().byStatus[0]).toBe(1);
    expect(fly.peer.machines()).toHaveLength(3);
  });

  it("gives up after its attempts with the last error, and still never duplicates", async () => {
    fly = await startFly({}, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    fly.peer.inject({ match: "Machines_create", status: 500, times: 10 });
    const error = await fly.client.createMachine(machineRequest("down")).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(FlyApiError);
    expect(error).toMatchObject({ status: 500, flyError: "injected 500" });
    expect(fly.peer.stats().byOperation.Machines_create).toBe(3);
    expect(fly.peer.machines()).toEqual([]);
  });

  it("retries idempotent calls on 5xx, and a destroy whose first answer was lost still succeeds", async () => {
    fly = await startFly();
    const machine = await fly.client.createMachine(machineRequest("to-destroy"));
    fly.peer.inject({ match: "Machines_show", status: 502 });
    expect((await fly.client.getMachine(machine.id!)).id).toBe(machine.id);

    fly.peer.inject({ match: "Machines_delete", status: 500, after: true });
    await fly.client.destroyMachine(machine.id!);
    expect(fly.peer.stats().byOperation.Machines_delete).toBe(2);
    expect(fly.peer.machines()[0]?.state).toMatch(/^destroy/);
  });

  it("does not retry a 4xx other than 429", async () => {
    fly = await startFly();
    fly.peer.inject({ match: "Volumes_create", status: 422, body: { error: "size_gb too large" } });
    const error = await fly.client.createVolume({ name: "t_big", size_gb: 5000 }).catch((err: unknown) => err);
    expect(error).toMatchObject({ status: 422, flyError: "size_gb too large" });
    expect(fly.peer.stats().byOperation.Volumes_create).toBe(1);
  });

  it("makes exactly one volume when the create's response is lost", async () => {
    fly = await startFly();
    fly.peer.inject({ match: "Volumes_create", status: 500, after: true });
    const volume = await fly.client.createVolume({ name: "t_once", size_gb: 1 });
    expect(fly.peer.volumes().map((v) => v.id)).toEqual([volume.id]);
  });

  it("holds a burst of 10 creates to the bucket: 3 at once, then one per token", async () => {
    const perSecond = 10;
    fly = await startFly({}, { rateLimits: { default: { perSecond, burst: 3 } } });
    const client = fly.client;
    const started = performance.now();
    await Promise.all(Array.from({ length: 10 }, (_, i) => client.createMachine(machineRequest(`burst-${i}`))));
    const elapsedMs = performance.now() - started;

    expect(fly.peer.machines()).toHaveLength(10);
    // The 7 beyond the burst need 7 tokens, whatever else slows the machine down. (On a busy host a stalled event loop
    // refills some tokens while others wait, so fewer than 7 calls may have had to wait themselves.)
    expect(elapsedMs).toBeGreaterThanOrEqual((7 / perSecond) * 1000 * 0.95);
    const { throttled } = client.stats();
    expect(throttled).toBeGreaterThan(0);
    expect(throttled).toBeLessThanOrEqual(7);
    // Another action has its own bucket, and actions on a machine count per machine: none of these wait.
    const ids = fly.peer.machines().map((m) => m.id!);
    await client.getMachine(ids[0]!);
    await Promise.all(ids.map((id) => client.stopMachine(id)));
    expect(client.stats().throttled).toBe(throttled);
  });

  it("stays under a Fly that enforces the limits, where a client without them is refused", async () => {
    // The peer allows a burst of 6 where the client's bucket holds 3: requests sent in order can reach the peer's
    // shared event loop bunched together, and that slack absorbs it. Only a client ignoring the limit gets refused.
    const peerLimit = { rateLimit: { perSecond: 10, burst: 6 } };
    const burst = (h: FlyHarness, tag: string) =>
      Promise.all(Array.from({ length: 10 }, (_, i) => h.client.createMachine(machineRequest(`${tag}-${i}`))));

    fly = await startFly(peerLimit, { rateLimits: { default: { perSecond: 10, burst: 3 } } });
    await burst(fly, "polite");
    expect(fly.peer.stats().byStatus).toEqual({ 200: 10 });
    await fly.close();

    fly = await startFly(peerLimit, { rateLimits: { default: { perSecond: 1000, burst: 1000 } } });
    await burst(fly, "pushy");
    const { byStatus } = fly.peer.stats();
    expect(byStatus[429]).toBeGreaterThan(0);
    expect(byStatus[200]).toBe(10); // refused creates were repeated after retry-after, none twice
    expect(fly.peer.machines()).toHaveLength(10);
  });
});
