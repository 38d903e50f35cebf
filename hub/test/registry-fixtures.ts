import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MachineRef } from "@thopter/protocol";
import { pino } from "pino";
import { afterEach, beforeEach } from "vitest";
import { Registry } from "../src/registry/index.js";
import { openStore } from "../src/store/index.js";
import type { Store } from "../src/store/store.js";

export const log = pino({ level: "silent" });

/** A fresh file store per test, and the registries a test opens on it, closed (and the store removed) after it. */
export function registryFixture() {
  let dir: string;
  let store: Store;
  const opened: Registry[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "registry-"));
    store = await openStore(`file:${dir}`);
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((r) => r.close()));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  return {
    get store(): Store {
      return store;
    },
    async open(options: { checkpointMs?: number } = {}): Promise<Registry> {
      const registry = await Registry.open(store, log, { checkpointMs: options.checkpointMs ?? 60_000 });
      opened.push(registry);
      return registry;
    },
    /** The record as a hub restarted right now (after a kill -9) would see it. Never closed: it must not write. */
    stored: async (id: string) => (await Registry.open(store, log, { checkpointMs: 3_600_000 })).get(id),
  };
}

export function fields(id: string, machine: MachineRef | null = null) {
  return {
    id,
    requestId: `req-${id}`,
    repo: "acme/widgets",
    issueNumber: 7,
    issueTitle: "Make widgets spin",
    branch: `thopter/7--${id}`,
    gc: "default",
    prompt: "default",
    state: "requested" as const,
    machine,
  };
}
