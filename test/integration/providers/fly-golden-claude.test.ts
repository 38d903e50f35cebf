// The Fly provider's side of golden claudes: which volume a thopter of profile NAME starts from, found in the volume
// list it reads anyway, and that whatever goes wrong never touches the golden claude's own volumes.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { goldenClaudeVolumeNames } from "@thopter/fly";
import type { MachineOwner } from "@thopter/hub/providers/provider";
import type { ThopterSpec } from "@thopter/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { newOwner } from "./contract.js";
import { type FlyHarness, startFly } from "./fly-harness.js";

let fly: FlyHarness | undefined;
afterEach(async () => {
  await fly?.close();
  fly = undefined;
});

async function start(): Promise<FlyHarness> {
  fly = await startFly();
  return fly;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

/** A thopter of profile `gc` that stays up: its job file (THOPTER_CONFIG) names the profile, as the hub's does. */
function specFor(owner: MachineOwner, gc: string): ThopterSpec {
  return {
    thopterId: owner.thopterId,
    env: { THOPTER_ID: owner.thopterId, THOPTER_CONFIG: "/etc/thopter/thopter.json" },
    files: [
      { path: "/etc/thopter/thopter.json", contentBase64: b64(JSON.stringify({ gc })), mode: 0o644, owner: "root" },
      {
        path: "/etc/thopter/coder-token",
        contentBase64: b64(`ghs_${randomBytes(8).toString("hex")}`),
        mode: 0o600,
        owner: "root",
      },
    ],
    entrypoint: [process.execPath, "-e", "setInterval(() => {}, 60_000)"],
  };
}

/** A golden claude `name` as the CLI leaves it: its home volume and the given snapshots, each holding `login`. */
async function goldenClaude(h: FlyHarness, name: string, logins: string[]) {
  const names = goldenClaudeVolumeNames(name);
  const home = await h.client.createVolume({ name: names.home, region: "iad", size_gb: 10 });
  const snapshots = [];
  for (const login of logins) {
    const snapshot = await h.client.createVolume({
      name: names.snapshot(new Date()),
      region: "iad",
      source_volume_id: home.id,
    });
    await mkdir(join(h.peer.volumeDir(snapshot.id!), "thopter"), { recursive: true });
    await writeFile(join(h.peer.volumeDir(snapshot.id!), "thopter", "login"), login);
    snapshots.push(snapshot);
    await sleep(5); // distinct creation times
  }
  return { home, snapshots };
}

const loginOf = (h: FlyHarness, volumeId: string) =>
  readFile(join(h.peer.volumeDir(volumeId), "thopter", "login"), "utf8");
const liveVolumeIds = (h: FlyHarness) =>
  h.peer
    .volumes()
    .map((v) => v.id)
    .sort();

describe("Fly provider and golden-claude snapshots", () => {
  it("forks the newest snapshot, in the same four calls, and leaves the golden claude's volumes as they were", async () => {
    const h = await start();
    const { home, snapshots } = await goldenClaude(h, "team", ["old login", "new login"]);
    const owner = newOwner();
    const before = h.peer.stats().total;
    const ref = await h.provider.create(specFor(owner, "team"), owner);
    expect(h.peer.stats().total - before).toBeLessThanOrEqual(4);
    expect([home.id, ...snapshots.map((s) => s.id)]).not.toContain(ref.volumeId);
    expect(await loginOf(h, ref.volumeId!)).toBe("new login");
    expect(h.peer.volumes().find((v) => v.id === ref.volumeId)?.size_gb).toBe(10);

    await h.provider.destroy(ref);
    expect(liveVolumeIds(h)).toEqual([home.id, ...snapshots.map((s) => s.id)].sort());
    expect(await loginOf(h, snapshots[1]!.id!)).toBe("new login");
  });

  it("a profile that is no golden claude gets an empty volume; an unsnapshotted one is refused and nothing is made", async () => {
    const h = await start();
    await goldenClaude(h, "team", []);
    const volumes = liveVolumeIds(h);

    const plain = newOwner();
    const ref = await h.provider.create(specFor(plain, "alice"), plain);
    expect(existsSync(join(h.peer.volumeDir(ref.volumeId!), "thopter"))).toBe(false);
    await h.provider.destroy(ref);

    const owner = newOwner();
    await expect(h.provider.create(specFor(owner, "team"), owner)).rejects.toThrow(
      "golden claude team has no snapshot yet: log in on gc-team, quit Claude there, run `pnpm fly snapshot-gc team`, then ask again",
    );
    expect(liveVolumeIds(h)).toEqual(volumes);
    expect(h.peer.machines().filter((m) => m.name === owner.thopterId)).toEqual([]);
  });

  it("a failed machine create deletes the fork, never the snapshot", async () => {
    const h = await start();
    const { home, snapshots } = await goldenClaude(h, "team", ["login"]);
    h.peer.inject({ match: "Machines_create", status: 422, body: { error: "no capacity" } });
    const owner = newOwner();
    await expect(h.provider.create(specFor(owner, "team"), owner)).rejects.toThrow(/could not create the machine/);
    expect(liveVolumeIds(h)).toEqual([home.id, snapshots[0]!.id].sort());
    expect(await loginOf(h, snapshots[0]!.id!)).toBe("login");
  });
});
