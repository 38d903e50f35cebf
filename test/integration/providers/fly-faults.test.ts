import { randomBytes } from "node:crypto";
import { volumeName } from "@thopter/hub/providers/fly/machine-config";
import type { MachineOwner } from "@thopter/hub/providers/provider";
import type { ThopterSpec } from "@thopter/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { FlyPeerOptions } from "../../peers/fly/index.js";
import { newOwner } from "./contract.js";
import { type FlyHarness, startFly } from "./fly-harness.js";

let fly: FlyHarness | undefined;
afterEach(async () => {
  await fly?.close();
  fly = undefined;
});

async function start(peer: FlyPeerOptions = {}, startTimeoutSeconds?: number): Promise<FlyHarness> {
  fly = await startFly(peer, startTimeoutSeconds ? { startTimeoutSeconds } : {});
  return fly;
}

/** A thopter that just stays up; these tests look at what exists on Fly, not at what it received. */
function idleSpec(owner: MachineOwner): ThopterSpec {
  return {
    thopterId: owner.thopterId,
    env: { THOPTER_ID: owner.thopterId },
    files: [
      {
        path: "/etc/thopter/coder-token",
        contentBase64: Buffer.from(`ghs_${randomBytes(8).toString("hex")}`).toString("base64"),
        mode: 0o600,
        owner: "root",
      },
    ],
    entrypoint: [process.execPath, "-e", "setInterval(() => {}, 60_000)"],
  };
}

const DEAD = new Set(["destroying", "destroyed"]);
const liveMachines = (h: FlyHarness, name: string) =>
  h.peer.machines().filter((m) => m.name === name && !DEAD.has(m.state ?? ""));

/** Exactly one live machine for the thopter, holding exactly the one volume the peer has. */
function expectOneMachineOneVolume(h: FlyHarness, owner: MachineOwner): void {
  const machines = liveMachines(h, owner.thopterId);
  expect(machines).toHaveLength(1);
  expect(h.peer.volumes().map((v) => v.attached_machine_id)).toEqual([machines[0]!.id]);
}

describe("Fly provider against Fly faults", () => {
  it("provisions a thopter in at most 4 Fly calls and sends secrets as root-only files, never env", async () => {
    const h = await start();
    const owner = newOwner();
    const spec = idleSpec(owner);
    const before = h.peer.stats().total;
    await h.provider.create(spec, owner);
    const calls = h.peer.stats();
    expect(calls.total - before).toBeLessThanOrEqual(4);
    expect(Object.keys(calls.byOperation).sort()).toEqual([
      "Machines_create",
      "Machines_wait",
      "Volumes_create",
      "Volumes_list",
    ]);
    const [machine] = liveMachines(h, owner.thopterId);
    const config = machine!.config!;
    expect(config.restart?.policy).toBe("no");
    expect(config.metadata).toEqual({ thopter: "1", thopter_id: owner.thopterId, repo: owner.repo, issue: "42" });
    expect(config.files).toEqual([
      { guest_path: "/etc/thopter/coder-token", raw_value: spec.files[0]!.contentBase64, mode: 0o600 },
    ]);
    const secret = Buffer.from(spec.files[0]!.contentBase64, "base64").toString();
    expect(JSON.stringify(config.env)).not.toContain(secret);
    expect(config.mounts).toEqual([{ volume: h.peer.volumes()[0]!.id, path: "/data" }]);
  });

  it.each([
    ["Machines_create", "a 503 before Fly acted", { status: 503, times: 2 }],
    ["Machines_create", "a 500 after Fly made the machine (response lost)", { status: 500, after: true }],
    ["Machines_create", "a 429 with retry-after", { status: 429, headers: { "retry-after": "0" } }],
    ["Volumes_create", "a 500 after Fly made the volume (response lost)", { status: 500, after: true }],
    ["Volumes_create", "a 429 with retry-after", { status: 429, headers: { "retry-after": "0" } }],
  ])("survives, during %s, %s: exactly one machine and one volume", async (match, _, fault) => {
    const h = await start();
    h.peer.inject({ match, ...fault });
    const owner = newOwner();
    await h.provider.create(idleSpec(owner), owner);
    expect(h.client.stats().retries, "the fault was met and retried").toBeGreaterThan(0);
    expectOneMachineOneVolume(h, owner);
  });

  it("reuses the volume a create interrupted by a hub restart left behind", async () => {
    const h = await start();
    const owner = newOwner();
    const left = await h.client.createVolume({ name: volumeName(owner.thopterId), region: "iad", size_gb: 10 });
    const ref = await h.provider.create(idleSpec(owner), owner);
    expect(ref.volumeId).toBe(left.id);
    expectOneMachineOneVolume(h, owner);
  });

  it("sweeps volumes that interrupted creates left, and nothing else", async () => {
    const h = await start();
    const owner = newOwner();
    const ref = await h.provider.create(idleSpec(owner), owner);
    const orphan = await h.client.createVolume({ name: volumeName("never-retried"), region: "iad", size_gb: 10 });
    const unrelated = await h.client.createVolume({ name: "postgres_data", region: "iad", size_gb: 1 });
    expect(await h.provider.removeLeftovers(60_000), "too young: its create may still be under way").toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await h.provider.removeLeftovers(10)).toEqual([orphan.id]);
    expect(
      h.peer
        .volumes()
        .map((v) => v.id)
        .sort(),
    ).toEqual([ref.volumeId, unrelated.id].sort());
  });

  it("fails with Fly's reason and leaves no volume when the machine cannot be created", async () => {
    const h = await start();
    h.peer.inject({ match: "Machines_create", status: 422, body: { error: "insufficient capacity in iad" } });
    const owner = newOwner();
    await expect(h.provider.create(idleSpec(owner), owner)).rejects.toThrow(/insufficient capacity in iad/);
    expect(liveMachines(h, owner.thopterId)).toEqual([]);
    expect(h.peer.volumes()).toEqual([]);
  });

  it("replaces the machine of an earlier attempt that has stopped since, keeping one machine and one volume", async () => {
    const h = await start();
    const owner = newOwner();
    const first = await h.provider.create(idleSpec(owner), owner);
    await h.client.stopMachine(first.id);
    await h.client.waitForState(first.id, "stopped", 10);
    const second = await h.provider.create(idleSpec(owner), owner);
    expect(second.id).not.toBe(first.id);
    expect(await h.provider.status(second)).toBe("running");
    expectOneMachineOneVolume(h, owner);
  });

  it("deletes the volume an interrupted create left when the machine still cannot be created", async () => {
    const h = await start();
    const owner = newOwner();
    await h.client.createVolume({ name: volumeName(owner.thopterId), region: "iad", size_gb: 10 });
    h.peer.inject({ match: "Machines_create", status: 422, body: { error: "image not found" } });
    await expect(h.provider.create(idleSpec(owner), owner)).rejects.toThrow(/image not found/);
    expect(h.peer.volumes()).toEqual([]);
  });

  it("fails clearly and cleans up when the machine never reaches started", async () => {
    // Every state step takes 3 s, so the machine is still booting when the 1 s start timeout ends.
    const h = await start({ transitionMs: 3_000 }, 1);
    const owner = newOwner();
    await expect(h.provider.create(idleSpec(owner), owner)).rejects.toThrow(
      /did not reach "started" within 1 s; it and its volume were destroyed/,
    );
    expect(liveMachines(h, owner.thopterId)).toEqual([]);
    expect(h.peer.volumes()).toEqual([]);
    expect(await h.provider.list()).toEqual([]);
  });

  it("lists only machines that carry the thopter metadata", async () => {
    const h = await start();
    await h.client.createMachine({ name: "not-a-thopter", config: { image: "nginx", init: { cmd: ["true"] } } });
    const owner = newOwner();
    await h.provider.create(idleSpec(owner), owner);
    expect((await h.provider.list()).map((m) => m.thopterId)).toEqual([owner.thopterId]);
  });
});
