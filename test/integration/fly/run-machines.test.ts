import { existsSync, readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isWaitTimeout } from "@thopter/fly";
import { afterEach, describe, expect, it } from "vitest";
import { type FlyHarness, machineRequest, startFly } from "./harness.js";

let fly: FlyHarness | undefined;
afterEach(async () => {
  await fly?.close();
  fly = undefined;
});

const node = process.execPath;
const b64 = (text: string) => Buffer.from(text).toString("base64");

/** Writes what the machine received (env, a delivered file and its mode) to /out/report.json, then exits or stays. */
const reporter = (stay: boolean) => `
const fs = require("node:fs");
const root = process.env.THOPTER_FS_ROOT;
const secret = root + "/etc/thopter/secret";
fs.mkdirSync(root + "/out", { recursive: true });
const child = require("node:child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
fs.writeFileSync(root + "/out/report.json", JSON.stringify({
  env: process.env,
  secret: fs.readFileSync(secret, "utf8"),
  mode: fs.statSync(secret).mode & 0o777,
  pids: [process.pid, child.pid],
}));
console.log("machine says hello");
${stay ? "setInterval(() => {}, 1000);" : "child.kill(); setTimeout(() => process.exit(0), 50);"}
`;

async function report(
  machineId: string,
): Promise<{ env: Record<string, string>; secret: string; mode: number; pids: number[] }> {
  const path = join(fly!.dir, "machines", machineId, "root/out/report.json");
  for (let i = 0; i < 100 && !existsSync(path); i++) await sleep(50);
  return JSON.parse(await readFile(path, "utf8"));
}

/** Running, not a zombie: a killed child of this process stays in the table until Node reaps it. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}

const files = [{ guest_path: "/etc/thopter/secret", raw_value: b64("s3cret\n"), mode: 0o600 }];

describe("Fly peer runs machines as local processes from their own config", () => {
  it("runs init.cmd with the machine's env and files, and stops the machine when the process exits", async () => {
    fly = await startFly({ run: {} });
    const { client } = fly;
    const machine = await client.createMachine(
      machineRequest("runs-once", { env: { GREETING: "hi" }, files, init: { cmd: [node, "-e", reporter(false)] } }),
    );
    await client.waitForState(machine.id!, "started", 10);
    const seen = await report(machine.id!);
    const root = join(fly.dir, "machines", machine.id!, "root");
    expect(seen.env).toMatchObject({
      GREETING: "hi",
      THOPTER_FS_ROOT: root,
      FLY_MACHINE_ID: machine.id,
      FLY_APP_NAME: fly.peer.app,
      FLY_PRIVATE_IP: "127.0.0.1",
    });
    expect(seen.secret).toBe("s3cret\n");
    expect(seen.mode).toBe(0o600);

    await client.waitForState(machine.id!, "stopped", 10);
    const console = await readFile(join(fly.dir, "machines", machine.id!, "console.log"), "utf8");
    expect(console).toContain("machine says hello");
  });

  it("kills the machine's whole process group on stop", async () => {
    fly = await startFly({ run: { stopGraceMs: 2000 } });
    const { client } = fly;
    const machine = await client.createMachine(
      machineRequest("runs-on", { files, init: { exec: [node, "-e", reporter(true)] } }),
    );
    await client.waitForState(machine.id!, "started", 10);
    const { pids } = await report(machine.id!);
    expect(pids.every(alive)).toBe(true);

    await sleep(300); // still running: only the process exiting or a stop ends it
    expect((await client.getMachine(machine.id!)).state).toBe("started");

    await client.stopMachine(machine.id!);
    await client.waitForState(machine.id!, "stopped", 10);
    expect(pids.filter(alive)).toEqual([]);
  });

  it("a machine stopped before or while it boots ends stopped with nothing left running", async () => {
    fly = await startFly({ run: {}, transitionMs: 20 });
    const { client } = fly;
    const machine = await client.createMachine(
      machineRequest("stopped-early", { files, init: { cmd: [node, "-e", reporter(true)] } }),
    );
    await client.stopMachine(machine.id!);
    await client.waitForState(machine.id!, "stopped", 10);
    await sleep(500); // long enough for a boot that was not cancelled to start the process
    expect((await client.getMachine(machine.id!)).state).toBe("stopped");
    const path = join(fly.dir, "machines", machine.id!, "root/out/report.json");
    const pids: number[] = existsSync(path) ? JSON.parse(await readFile(path, "utf8")).pids : [];
    expect(pids.filter(alive)).toEqual([]);
  });

  it("uses the image default the peer was given, and destroy removes the machine's directory", async () => {
    fly = await startFly({ run: { defaultCommand: [node, "-e", reporter(true)] } });
    const { client } = fly;
    const machine = await client.createMachine(machineRequest("image-default", { files }));
    await client.waitForState(machine.id!, "started", 10);
    const { pids } = await report(machine.id!);
    const dir = join(fly.dir, "machines", machine.id!);
    expect((await stat(dir)).isDirectory()).toBe(true);

    await client.destroyMachine(machine.id!);
    await client.waitForState(machine.id!, "destroyed", 10);
    expect(existsSync(dir)).toBe(false);
    expect(pids.filter(alive)).toEqual([]);
  });

  it("a machine whose command cannot start never reaches started", async () => {
    fly = await startFly({ run: {} });
    const { client } = fly;
    const machine = await client.createMachine(
      machineRequest("broken", { init: { exec: ["/nonexistent/entrypoint"] } }),
    );
    const error = await client.waitForState(machine.id!, "started", 1).catch((err: unknown) => err);
    expect(isWaitTimeout(error)).toBe(true);
    const shown = await client.getMachine(machine.id!);
    expect(shown.state).toBe("failed");
    expect(shown.events?.[1]?.status).toMatch(/nonexistent/);
  });

  it("refuses at create time a file it cannot deliver or a machine with nothing to run", async () => {
    fly = await startFly({ run: {} });
    const { client, peer } = fly;
    const secretFile = { guest_path: "/etc/x", secret_name: "X" };
    await expect(
      client.createMachine(machineRequest("secret-file", { files: [secretFile], init: { cmd: ["true"] } })),
    ).rejects.toMatchObject({ status: 400, flyError: expect.stringContaining("raw_value") });
    await expect(client.createMachine(machineRequest("no-command"))).rejects.toMatchObject({
      status: 400,
      flyError: expect.stringContaining("init.cmd"),
    });
    expect(peer.machines()).toEqual([]);
  });
});

describe("Fly peer volumes as directories", () => {
  /** Writes `text` to `file` under the mount at /data, then exits: the machine stops. */
  const writer = (file: string, text: string) =>
    `require("node:fs").writeFileSync(process.env.THOPTER_FS_ROOT + "/data/${file}", ${JSON.stringify(text)})`;

  it("a machine's writes at its mount path outlive it, and a fork (source_volume_id) starts with them", async () => {
    fly = await startFly({ run: {} });
    const { client, peer } = fly;
    const home = await client.createVolume({ name: "home", region: "ord", size_gb: 7 });
    const first = await client.createMachine(
      machineRequest("writer", {
        mounts: [{ volume: home.id, path: "/data" }],
        init: { cmd: [node, "-e", writer("login", "logged in\n")] },
      }),
    );
    await client.waitForState(first.id!, "stopped", 10, { version: first.instance_id });
    expect(await readFile(join(peer.volumeDir(home.id!), "login"), "utf8")).toBe("logged in\n");
    // The mount was a real directory in the machine (as Fly's is), now moved back to the volume.
    expect(existsSync(join(fly.dir, "machines", first.id!, "root", "data"))).toBe(false);

    const fork = await client.createVolume({ name: "fork", source_volume_id: home.id });
    expect(fork).toMatchObject({ region: "ord", size_gb: 7 });
    await client.destroyMachine(first.id!);
    await client.waitForState(first.id!, "destroyed", 10);
    const second = await client.createMachine(
      machineRequest("fork-writer", {
        mounts: [{ volume: fork.id, path: "/data" }],
        init: { cmd: [node, "-e", writer("scratch", "mine\n")] },
      }),
    );
    await client.waitForState(second.id!, "stopped", 10, { version: second.instance_id });
    expect(await readFile(join(peer.volumeDir(fork.id!), "login"), "utf8")).toBe("logged in\n");
    expect(existsSync(join(peer.volumeDir(home.id!), "scratch")), "a fork is a copy").toBe(false);

    await expect(client.createVolume({ name: "orphan", source_volume_id: "vol_nosuchvolume" })).rejects.toMatchObject({
      status: 404,
    });
    await client.destroyMachine(second.id!);
    await client.waitForState(second.id!, "destroyed", 10);
    await client.deleteVolume(fork.id!);
    expect(existsSync(peer.volumeDir(fork.id!))).toBe(false);
  });
});
