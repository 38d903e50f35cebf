import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FlyHarness, machineRequest, startFly } from "./harness.js";

let fly: FlyHarness;
beforeEach(async () => {
  fly = await startFly();
});
afterEach(async () => {
  await fly.close({ violationsExpected: true }); // some tests make violations on purpose; the others assert none
});

/** A raw request, bypassing the typed client, to send what the client never would. */
function call(method: string, path: string, body?: unknown, token = fly.peer.token): Promise<Response> {
  return fetch(`${fly.peer.url}/v1/apps/${fly.peer.app}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe("Fly peer checks traffic against the vendored OpenAPI description", () => {
  it("catches a request body that breaks the schema, answers 400 and records it", async () => {
    const res = await call("POST", "/machines", { name: "bad", config: { image: 42, env: { A: 1 } } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain("invalid request");
    expect(fly.peer.violations).toHaveLength(1);
    expect(fly.peer.violations[0]).toMatchObject({ operation: "Machines_create", direction: "request" });
    expect(fly.peer.violations[0]?.problems.join()).toMatch(/\/config\/image must be string/);
    expect(() => fly.peer.assertClean()).toThrow(/Machines_create/);
  });

  it("catches a missing required body and a query parameter of the wrong type", async () => {
    expect((await call("POST", "/volumes")).status).toBe(400);
    expect((await call("GET", "/machines?include_deleted=maybe")).status).toBe(400);
    expect(fly.peer.violations.map((v) => v.operation)).toEqual(["Volumes_create", "Machines_list"]);
    expect(fly.peer.violations[1]?.problems.join()).toMatch(/include_deleted/);
  });

  it("catches a response that breaks the schema (here an injected one)", async () => {
    const machine = await fly.client.createMachine(machineRequest("shown"));
    fly.peer.inject({ match: "Machines_show", status: 200, body: { id: 42, state: ["started"] } });
    await fly.client.getMachine(machine.id!);
    expect(fly.peer.violations).toEqual([
      expect.objectContaining({ operation: "Machines_show", direction: "response", status: 200 }),
    ]);
    expect(fly.peer.violations[0]?.problems.join()).toMatch(/\/id must be string/);
  });

  it("catches an undocumented success status and a malformed error body", async () => {
    fly.peer.inject({ match: "Machines_list", status: 201, body: [] });
    fly.peer.inject({ match: "Volumes_list", status: 500, body: { error: 500 } });
    await call("GET", "/machines");
    await call("GET", "/volumes");
    expect(fly.peer.violations.map((v) => [v.operation, v.status])).toEqual([
      ["Machines_list", 201],
      ["Volumes_list", 500],
    ]);
  });

  it("answers a missing or wrong bearer token with 401 and touches nothing", async () => {
    expect((await call("POST", "/machines", machineRequest("sneaky"), "wrong")).status).toBe(401);
    const anonymous = await fetch(`${fly.peer.url}/v1/apps/${fly.peer.app}/machines`);
    expect(anonymous.status).toBe(401);
    expect(fly.peer.machines()).toEqual([]);
    expect(fly.peer.violations).toEqual([]);
  });

  it("knows only its own app (a plain 404, as Fly answers)", async () => {
    const res = await fetch(`${fly.peer.url}/v1/apps/someone-else/machines`, {
      headers: { authorization: `Bearer ${fly.peer.token}` },
    });
    expect(res.status).toBe(404);
    expect(fly.peer.violations).toEqual([]);
  });

  it("answers a route the description does not have with 404 and records it: a client would read that 404 as gone", async () => {
    expect((await call("GET", "/not-an-endpoint")).status).toBe(404);
    expect((await call("DELETE", "/machines/m1/volume")).status).toBe(404);
    expect(fly.peer.violations.map((v) => v.operation)).toEqual([
      `GET /v1/apps/${fly.peer.app}/not-an-endpoint`,
      `DELETE /v1/apps/${fly.peer.app}/machines/m1/volume`,
    ]);
    expect(() => fly.peer.assertClean()).toThrow(/not-an-endpoint is not an operation/);
  });

  it("records a query parameter the operation does not declare (a misspelling Fly would silently ignore)", async () => {
    expect((await call("GET", "/machines?includ_deleted=true")).status).toBe(400);
    expect(fly.peer.violations).toEqual([
      expect.objectContaining({ operation: "Machines_list", direction: "request" }),
    ]);
    expect(fly.peer.violations[0]?.problems.join()).toMatch(/"includ_deleted" is not one Machines_list declares/);
  });

  it("accepts Fly's documented metadata filter on the machine list, and only there", async () => {
    await fly.client.createMachine(machineRequest("tagged", { metadata: { thopter: "1" } }));
    await fly.client.createMachine(machineRequest("untagged"));
    expect(await fly.client.listMachines({ metadata: { thopter: "1" } })).toHaveLength(1);
    fly.peer.assertClean();
    expect((await call("GET", "/volumes?metadata.thopter=1")).status).toBe(400);
    expect(fly.peer.violations.map((v) => v.operation)).toEqual(["Volumes_list"]);
  });

  it("walks a machine through Fly's states in order", async () => {
    const machine = await fly.client.createMachine(machineRequest("states"));
    await fly.client.waitForState(machine.id!, "started", 5);
    await fly.client.stopMachine(machine.id!);
    await fly.client.waitForState(machine.id!, "stopped", 5);
    await fly.client.destroyMachine(machine.id!);
    await fly.client.waitForState(machine.id!, "destroyed", 5);
    const shown = await fly.client.getMachine(machine.id!);
    const states = (shown.events ?? [])
      .filter((event) => event.type === "state")
      .map((event) => event.status)
      .reverse();
    expect(states).toEqual(["starting", "started", "stopping", "stopped", "destroying", "destroyed"]);
    expect(shown.state).toBe("destroyed");
    fly.peer.assertClean();
  });

  it("refuses to wait for stopped without the machine version, as Fly does", async () => {
    const machine = await fly.client.createMachine({ ...machineRequest("versioned"), skip_launch: true });
    const refused = await call("GET", `/machines/${machine.id}/wait?state=stopped&timeout=1`);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: "instance_id is required when waiting for the stopped state" });
    // The client reads the version first when it is not given, and sends it.
    await fly.client.stopMachine(machine.id!);
    await fly.client.waitForState(machine.id!, "stopped", 5);
    await fly.client.waitForState(machine.id!, "stopped", 5, { version: machine.instance_id });
    expect(fly.peer.stats().byOperation).toMatchObject({ Machines_show: 1, Machines_wait: 3 });
    fly.peer.assertClean();
  });

  it("refuses to destroy a running machine without force, as Fly does", async () => {
    const machine = await fly.client.createMachine(machineRequest("running"));
    await fly.client.waitForState(machine.id!, "started", 5);
    await expect(fly.client.destroyMachine(machine.id!, { force: false })).rejects.toMatchObject({ status: 412 });
    await fly.client.destroyMachine(machine.id!, { force: true });
    fly.peer.assertClean();
  });
});
