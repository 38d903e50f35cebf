import { FlyMachinesClient } from "@thopter/fly";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { FlyPeer } from "../../peers/fly/index.js";

// Sustained Fly 429s are waited out until a deadline (FLY_RATE_LIMIT_DEADLINE_MS), not for five attempts.
let peer: FlyPeer | undefined;
afterEach(async () => {
  await peer?.close();
  peer?.assertClean();
});

async function client(rateLimitDeadlineMs: number): Promise<FlyMachinesClient> {
  peer = await FlyPeer.start({ transitionMs: 20 });
  return new FlyMachinesClient({
    app: peer.app,
    token: peer.token,
    apiUrl: peer.url,
    logger: pino({ level: "silent" }),
    rateLimits: { default: { perSecond: 1_000, burst: 1_000 } },
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    rateLimitDeadlineMs,
  });
}

const request = (name: string) => ({
  name,
  region: "iad",
  config: { image: "registry.fly.io/thopters:test", init: { cmd: ["/bin/true"] }, metadata: { thopter: "1" } },
});

it("waits out more 429s than it has attempts, within the deadline, and makes one machine", async () => {
  const fly = await client(20_000);
  peer!.inject({ match: "Machines_create", status: 429, times: 12, headers: { "retry-after": "0.05" } });
  const machine = await fly.createMachine(request("patient"));
  expect(peer!.machines().map((m) => m.id)).toEqual([machine.id]);
  expect(peer!.stats().byOperation.Machines_create).toBe(13);
});

it("fails after the deadline with an error that says Fly kept rate-limiting and names the setting", async () => {
  const fly = await client(1_000);
  peer!.inject({ match: "Machines_create", status: 429, times: 1_000, headers: { "retry-after": "0.2" } });
  const started = Date.now();
  const error = await fly.createMachine(request("refused")).catch((err: unknown) => err);
  expect(error).toMatchObject({ status: 429 });
  expect(String(error)).toMatch(/kept rate-limiting it for 1 s .*FLY_RATE_LIMIT_DEADLINE_MS/);
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(peer!.machines()).toEqual([]);
});
