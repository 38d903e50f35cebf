import Docker from "dockerode";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  buildImages,
  type ContainerEngine,
  hasContainerEngine,
  startContainerEngine,
} from "../../helpers/container-engine.js";
import { until } from "../hub/harness.js";
import { type FlyHarness, machineRequest, startFly } from "./harness.js";

const SKIP_REASON = "(root with podman and buildah only: CI installs them)";
const b64 = (text: string) => Buffer.from(text).toString("base64");

let engine: ContainerEngine;
let docker: Docker;
let image: string;
let fly: FlyHarness | undefined;

/** What the machine saw, printed as one JSON line: env, a delivered file with its owner and mode, its uid. */
const REPORT = `
const fs = require("node:fs");
const st = fs.statSync("/etc/thopter/secret");
const before = fs.existsSync("/data/note") ? fs.readFileSync("/data/note", "utf8") : null;
fs.writeFileSync("/data/note", "written by " + process.env.FLY_MACHINE_ID);
console.log(JSON.stringify({ env: process.env, secret: fs.readFileSync("/etc/thopter/secret", "utf8"),
  mode: st.mode & 0o777, owner: st.uid, uid: process.getuid(), before }));
`;

async function reportOf(machineId: string): Promise<Record<string, unknown>> {
  const out = await until(async () => (await fly!.peer.console(machineId)).match(/^\{.*\}$/m)?.[0] ?? "", 30_000);
  return JSON.parse(out);
}

describe.skipIf(!hasContainerEngine)(`Fly peer runs machines as containers of their image ${SKIP_REASON}`, () => {
  beforeAll(async () => {
    image = buildImages().thopter;
    engine = await startContainerEngine();
    docker = new Docker({ socketPath: engine.socketPath });
  }, 30 * 60_000);
  afterEach(async () => {
    const peer = fly?.peer;
    await fly?.close();
    fly = undefined;
    // Teardown leaves no container and no volume of the peer on the engine.
    expect(await peer?.leftovers()).toEqual([]);
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
  });

  it("boots the image with the machine's env, files and volume; a fork carries the data; destroy removes it all", async () => {
    fly = await startFly({ containers: { docker, stopGraceMs: 2_000 } });
    const { client, peer } = fly;
    const volume = await client.createVolume({ name: "data_one", region: "iad", size_gb: 1 });
    const config = (name: string, volumeId: string) =>
      machineRequest(name, {
        image,
        env: { GREETING: "hi" },
        files: [{ guest_path: "/etc/thopter/secret", raw_value: b64("s3cret\n"), mode: 0o600 }],
        mounts: [{ volume: volumeId, path: "/data" }],
        init: { cmd: ["node", "-e", REPORT] },
      });
    const first = await client.createMachine(config("first", volume.id!));
    const seen = await reportOf(first.id!);
    expect(seen).toMatchObject({ secret: "s3cret\n", mode: 0o600, owner: 0, uid: 0, before: null });
    expect(seen.env).toMatchObject({ GREETING: "hi", FLY_MACHINE_ID: first.id, FLY_APP_NAME: peer.app });
    expect(seen.env).not.toHaveProperty("THOPTER_FS_ROOT");
    // The process exited: the machine stops, and its container stays (stopped) until the machine is destroyed.
    await client.waitForState(first.id!, "stopped", 30);
    expect(await peer.leftovers()).toContain(`container /fly-peer-${first.id}`);

    await client.destroyMachine(first.id!);
    await until(() => !JSON.stringify(peer.machines()).includes('"state":"destroying"'), 10_000);
    expect(await peer.leftovers()).toEqual([`volume fly-peer-${volume.id}`]);

    const fork = await client.createVolume({ name: "data_two", source_volume_id: volume.id! });
    const second = await client.createMachine(config("second", fork.id!));
    expect((await reportOf(second.id!)).before).toBe(`written by ${first.id}`);
    await client.waitForState(second.id!, "stopped", 30);
    await client.destroyMachine(second.id!);
    await until(async () => (await peer.leftovers()).length === 2, 10_000, "only the two volumes left");
    await client.deleteVolume(fork.id!);
    await client.deleteVolume(volume.id!);
    expect(await peer.leftovers()).toEqual([]);
  }, 120_000);

  it("the image's own CMD runs when the config gives none; stop ends a running machine within its grace", async () => {
    fly = await startFly({ containers: { docker, stopGraceMs: 2_000 } });
    const { client, peer } = fly;
    const idle = await client.createMachine(
      machineRequest("idle", { image, init: { entrypoint: ["sleep"], cmd: ["600"] } }),
    );
    await client.waitForState(idle.id!, "started", 30);
    expect(peer.machines()[0]?.private_ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const started = Date.now();
    await client.stopMachine(idle.id!);
    await client.waitForState(idle.id!, "stopped", 30);
    expect(Date.now() - started).toBeLessThan(10_000);

    // No init: the thopter image's CMD, its entrypoint, boots and refuses for want of its job file.
    const bare = await client.createMachine(machineRequest("bare", { image }));
    await client.waitForState(bare.id!, "stopped", 60);
    expect(await peer.console(bare.id!)).toContain("/etc/thopter/thopter.json");
  }, 120_000);
});
