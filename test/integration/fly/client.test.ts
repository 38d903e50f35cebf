import { FlyApiError, FlyMachinesClient, isWaitTimeout } from "@thopter/fly";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FlyHarness, machineRequest, quiet, startFly } from "./harness.js";

let fly: FlyHarness;
beforeEach(async () => {
  fly = await startFly();
});
afterEach(async () => {
  await fly.close();
});

describe("Fly Machines client against the Fly peer", () => {
  it("creates a machine, waits for it to start, reads it, stops and destroys it", async () => {
    const { client } = fly;
    const created = await client.createMachine(machineRequest("thopter-a", { env: { A: "1" } }));
    expect(created).toMatchObject({ name: "thopter-a", state: "created", config: { env: { A: "1" } } });

    await expect(client.waitForState(created.id!, "started", 5)).resolves.toMatchObject({ ok: true, state: "started" });
    const started = await client.getMachine(created.id!);
    expect(started.state).toBe("started");
    expect(started.private_ip).toBe("127.0.0.1");

    await client.stopMachine(created.id!);
    await client.waitForState(created.id!, "stopped", 5);
    expect((await client.getMachine(created.id!)).state).toBe("stopped");

    await client.destroyMachine(created.id!);
    await client.waitForState(created.id!, "destroyed", 5);
    expect(await client.listMachines()).toEqual([]);
    expect((await client.listMachines({ includeDeleted: true })).map((m) => m.state)).toEqual(["destroyed"]);
  });

  it("lists machines by metadata and by state", async () => {
    const { client } = fly;
    const ours = await client.createMachine(machineRequest("ours", { metadata: { thopter: "1", issue: "7" } }));
    await client.createMachine(machineRequest("theirs", { metadata: { thopter: "0" } }));
    await client.createMachine({ ...machineRequest("idle"), skip_launch: true });
    await client.waitForState(ours.id!, "started", 5);

    expect((await client.listMachines({ metadata: { thopter: "1" } })).map((m) => m.name)).toEqual(["ours"]);
    expect(await client.listMachines({ metadata: { thopter: "1", issue: "8" } })).toEqual([]);
    expect((await client.listMachines({ states: ["created"] })).map((m) => m.name)).toEqual(["idle"]);
  });

  it("reads, sets and deletes machine metadata", async () => {
    const { client } = fly;
    const machine = await client.createMachine(machineRequest("meta", { metadata: { thopter: "1" } }));
    await client.setMetadata(machine.id!, "state", "working");
    expect(await client.getMetadata(machine.id!)).toEqual({ thopter: "1", state: "working" });
    await client.deleteMetadata(machine.id!, "state");
    expect(await client.getMetadata(machine.id!)).toEqual({ thopter: "1" });
  });

  it("creates, lists and deletes volumes, and refuses to delete one still mounted", async () => {
    const { client } = fly;
    const volume = await client.createVolume({ name: "t_one", region: "iad", size_gb: 10 });
    expect(volume).toMatchObject({ name: "t_one", size_gb: 10, state: "created" });
    const machine = await client.createMachine(
      machineRequest("mounted", { mounts: [{ volume: volume.id, path: "/data" }] }),
    );
    expect((await client.listVolumes())[0]?.attached_machine_id).toBe(machine.id);

    const refused = await client.deleteVolume(volume.id!).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(FlyApiError);
    expect((refused as FlyApiError).status).toBe(412);

    await client.destroyMachine(machine.id!);
    await client.deleteVolume(volume.id!);
    expect(await client.listVolumes()).toEqual([]);
  });

  it("turns a wait that runs out into a 408 the caller can recognise", async () => {
    const { client } = fly;
    const machine = await client.createMachine({ ...machineRequest("never-starts"), skip_launch: true });
    const error = await client.waitForState(machine.id!, "started", 1).catch((err: unknown) => err);
    expect(isWaitTimeout(error)).toBe(true);
    expect((error as FlyApiError).message).toContain("408");
    expect(fly.peer.stats().byOperation.Machines_wait).toBe(1); // a timeout is an answer, not a failure to retry
  });

  it("refuses a second machine with the same name, and returns the first instead", async () => {
    const { client, peer } = fly;
    const first = await client.createMachine(machineRequest("same"));
    const again = await client.createMachine(machineRequest("same"));
    expect(again.id).toBe(first.id);
    expect(peer.machines()).toHaveLength(1);
  });

  it("reports a missing machine as a 404 with Fly's message", async () => {
    const error = await fly.client.getMachine("nope").catch((err: unknown) => err);
    expect(error).toBeInstanceOf(FlyApiError);
    expect(error).toMatchObject({ status: 404, flyError: "machine nope not found" });
  });

  it("sends the bearer token, and a wrong token gets 401 without being retried", async () => {
    const { peer } = fly;
    const stranger = new FlyMachinesClient({ app: peer.app, token: "wrong", apiUrl: peer.url, logger: quiet });
    await expect(stranger.listMachines()).rejects.toMatchObject({ status: 401 });
    expect(stranger.stats().calls).toBe(1);
  });

  it("accepts FLY_API_URL with or without a trailing /v1", async () => {
    const { peer } = fly;
    for (const apiUrl of [`${peer.url}/`, `${peer.url}/v1`, `${peer.url}/v1/`]) {
      const client = new FlyMachinesClient({ app: peer.app, token: peer.token, apiUrl, logger: quiet });
      await expect(client.listVolumes()).resolves.toEqual([]);
    }
  });

  it("logs every call with method, path, status and time, and never the token", async () => {
    const { client, logLines, peer } = fly;
    const machine = await client.createMachine(machineRequest("logged"));
    await client.getMachine(machine.id!);
    await client.getMachine("missing").catch(() => undefined);

    const calls = logLines.filter((line) => line.msg === "fly call");
    expect(calls.map((line) => [line.method, line.path, line.status])).toEqual([
      ["POST", `/v1/apps/${peer.app}/machines`, 200],
      ["GET", `/v1/apps/${peer.app}/machines/${machine.id}`, 200],
      ["GET", `/v1/apps/${peer.app}/machines/missing`, 404],
    ]);
    for (const line of calls) expect(typeof line.ms).toBe("number");
    expect(JSON.stringify(logLines)).not.toContain(peer.token);
  });

  it("counts its calls per operation, as the peer counts them", async () => {
    const { client, peer } = fly;
    const seen: string[] = [];
    const counted = new FlyMachinesClient({
      app: peer.app,
      token: peer.token,
      apiUrl: peer.url,
      logger: quiet,
      onCall: (call) => seen.push(call.operation),
    });
    const machine = await counted.createMachine(machineRequest("counted"));
    await counted.waitForState(machine.id!, "started", 5);
    await counted.getMachine(machine.id!);

    expect(counted.stats()).toMatchObject({
      calls: 3,
      byOperation: {
        "POST /apps/{app_name}/machines": 1,
        "GET /apps/{app_name}/machines/{machine_id}/wait": 1,
        "GET /apps/{app_name}/machines/{machine_id}": 1,
      },
      retries: 0,
    });
    expect(seen).toHaveLength(3);
    expect(peer.stats().total).toBe(3);
    expect(client.stats().calls).toBe(0);
  });
});
