import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrokerReport, StatusReport, ThopterRecord } from "@thopter/protocol";
import { pino } from "pino";
import { afterEach, beforeEach } from "vitest";
import { startCollector, type ThopterTokens, TokenStore } from "../src/collector/index.js";
import { LogArchive } from "../src/logs/archive.js";
import { Registry } from "../src/registry/index.js";
import { openStore } from "../src/store/index.js";
import type { Store } from "../src/store/store.js";

const log = pino({ level: "silent" });
/** The fixture's per-thopter log archive cap (LOG_ARCHIVE_MAX_MB): small, so a flood reaches it quickly. */
export const ARCHIVE_MAX_BYTES = 2 * 1024 * 1024;

export interface Hub {
  store: Store;
  archive: LogArchive;
  registry: Registry;
  tokens: TokenStore;
  url: string;
  close(): Promise<void>;
}

/** A hub's collector side on a store; a second call on the same store is the hub after a restart. */
async function startHub(store: Store, archive: LogArchive): Promise<Hub> {
  const registry = await Registry.open(store, log, { checkpointMs: 60_000 });
  const tokens = await TokenStore.open(store);
  const collector = await startCollector({
    registry,
    tokens,
    log,
    host: "127.0.0.1",
    port: 0,
    maxBodyBytes: 64 * 1024,
    archive,
  });
  return {
    store,
    archive,
    registry,
    tokens,
    url: collector.url,
    close: async () => {
      await collector.close();
      await registry.close();
    },
  };
}

/** A hub's collector side on a fresh file store per test, with what the tests do to it. */
export function collectorFixture() {
  let dir: string;
  let hub: Hub;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "collector-"));
    const archive = new LogArchive({ dir: join(dir, ".logs"), maxBytes: ARCHIVE_MAX_BYTES, retentionDays: 2 });
    hub = await startHub(await openStore(`file:${dir}`), archive);
  });
  afterEach(async () => {
    await hub.close();
    await hub.store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  return {
    get hub(): Hub {
      return hub;
    },
    /** The hub restarted on the same store. */
    async restart(): Promise<void> {
      await hub.close();
      hub = await startHub(hub.store, hub.archive);
    },
    async addThopter(id: string, state: ThopterRecord["state"] = "booting"): Promise<ThopterTokens> {
      await hub.registry.create({
        id,
        requestId: "r1",
        repo: "acme/widgets",
        issueNumber: 3,
        issueTitle: "t",
        branch: `thopter/3--${id}`,
        gc: "default",
        prompt: "default",
        state,
        machine: { provider: "local", id: `m-${id}` },
      });
      return hub.tokens.mint(id);
    },
    /** A thopter as a hub restarted right now (after a kill -9) would see it. Never closed: it must not write. */
    async restartedView(id: string) {
      return (await Registry.open(hub.store, log, { checkpointMs: 3_600_000 })).get(id);
    },
    async post(path: string, token: string | undefined, body: unknown) {
      const res = await fetch(hub.url + path, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      return {
        status: res.status,
        body: (await res.json()) as { error?: string; state?: string; duplicate?: boolean },
      };
    },
  };
}

export const now = () => new Date().toISOString();
export const status = (over: Partial<StatusReport> = {}): StatusReport => ({
  state: "working",
  event: "PreToolUse",
  detail: "Bash",
  at: now(),
  ...over,
});
export const brokerStatus = (key: string, state: "working" | "done" | "blocked" | "needs_input", summary = "did it") =>
  ({
    idempotencyKey: key,
    at: now(),
    body: { kind: "status", state, summary, pullRequestUrl: "https://github.test/acme/widgets/pull/4" },
  }) satisfies BrokerReport;
