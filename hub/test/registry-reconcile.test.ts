import type { AddressInfo } from "node:net";
import type { ThopterRecord } from "@thopter/protocol";
import express from "express";
import { describe, expect, it } from "vitest";
import type { MachineInfo, Provider } from "../src/providers/provider.js";
import { reconcile, thoptersRouter } from "../src/registry/index.js";
import { fields, log, registryFixture } from "./registry-fixtures.js";

const { open } = registryFixture();

function machine(thopterId: string, id: string, state: MachineInfo["state"] = "running"): MachineInfo {
  return {
    ref: { provider: "local", id },
    state,
    detail: state,
    createdAt: new Date().toISOString(),
    thopterId,
    repo: "acme/widgets",
    issueNumber: 9,
  };
}

function providerListing(machines: MachineInfo[]): Provider {
  return {
    kind: "local",
    isolation: "off",
    list: async () => machines,
    create: async () => {
      throw new Error("not used");
    },
    destroy: async () => {},
    status: async () => "running",
  };
}

describe("reconcile", () => {
  it("adopts, attaches, marks gone and flags, as the provider's list says", async () => {
    const registry = await open();
    // Known, machine still there: untouched.
    await registry.create({ ...fields("keep", { provider: "local", id: "m-keep" }), state: "booting" });
    // Known, machine gone while the hub was down.
    await registry.create({ ...fields("lost", { provider: "local", id: "m-lost" }), state: "booting" });
    // Hub stopped between provider.create and recording the machine.
    await registry.create({ ...fields("half"), state: "provisioning" });
    // Gone in the registry, but its machine lingers.
    await registry.create({ ...fields("ghost", { provider: "local", id: "m-ghost" }), state: "gone" });
    // A record from another provider is not judged by this one's list.
    await registry.create({ ...fields("elsewhere", { provider: "fly", id: "fly-1" }), state: "working" });

    const report = await reconcile(
      registry,
      providerListing([
        machine("keep", "m-keep"),
        machine("half", "m-half"),
        machine("ghost", "m-ghost"),
        machine("keep", "m-dup"), // a second machine for a thopter that has one
        machine("stranger", "m-stranger"),
        machine("stopped-stranger", "m-stopped", "stopped"),
        machine("lost", "m-lost", "gone"),
      ]),
      log,
    );

    expect(report.adopted.sort()).toEqual(["stopped-stranger", "stranger"]);
    expect(report.attached).toEqual(["half"]);
    expect(report.gone).toEqual(["lost"]);
    expect(report.flagged.map((f) => f.machine.ref.id).sort()).toEqual(["m-dup", "m-ghost"]);

    expect(registry.get("keep")?.state).toBe("booting");
    expect(registry.get("lost")?.state).toBe("gone");
    expect(registry.get("half")).toMatchObject({ state: "provisioning", machine: { id: "m-half" } });
    expect(registry.get("stranger")).toMatchObject({
      state: "waiting",
      repo: "acme/widgets",
      issueNumber: 9,
      branch: "thopter/9--stranger",
      machine: { id: "m-stranger" },
    });
    expect(registry.get("stopped-stranger")?.state).toBe("failed");
    expect(registry.get("elsewhere")?.state).toBe("working");

    // What reconcile decided is durable.
    const restarted = await open();
    expect(restarted.get("lost")?.state).toBe("gone");
    expect(restarted.get("stranger")?.machine?.id).toBe("m-stranger");
  });

  it("marks a booted record with no machine at all as gone, but leaves unprovisioned ones to the scheduler", async () => {
    const registry = await open();
    await registry.create({ ...fields("queued"), state: "requested" });
    await registry.create({ ...fields("odd"), state: "working" });
    const report = await reconcile(registry, providerListing([]), log);
    expect(report.gone).toEqual(["odd"]);
    expect(registry.get("queued")?.state).toBe("requested");
  });
});

describe("GET /api/thopters", () => {
  it("lists each thopter's state, branch, machine and timeline, newest first, and shows one by id", async () => {
    const registry = await open();
    await registry.create(fields("older"));
    await new Promise((r) => setTimeout(r, 5));
    await registry.create({ ...fields("newer", { provider: "local", id: "m-newer" }), state: "booting" });
    const server = express().use(thoptersRouter(registry)).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const list = (await (await fetch(`${base}/api/thopters`)).json()) as { thopters: ThopterRecord[] };
      expect(list.thopters.map((t) => t.id)).toEqual(["newer", "older"]);
      expect(list.thopters[0]).toMatchObject({
        state: "booting",
        branch: "thopter/7--newer",
        machine: { id: "m-newer" },
        timeline: [{ kind: "created" }],
      });
      expect(await (await fetch(`${base}/api/thopters/older`)).json()).toMatchObject({
        id: "older",
        state: "requested",
      });
      const missing = await fetch(`${base}/api/thopters/nope`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { error: string }).error).toMatch(/no thopter nope/);
    } finally {
      server.close();
    }
  });
});
