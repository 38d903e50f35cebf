import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyAccessToken } from "@thopter/agent/access/index";
import { AccessKeys, accessViewers, LOCAL_PLACEMENT } from "@thopter/hub/access/index";
import { openStore, type Store } from "@thopter/hub/store/index";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { addThopter, BEARER, type DashboardSetup, startDashboard } from "../dashboard/harness.js";

let dir: string;
let store: Store;
let keys: AccessKeys;
let setup: DashboardSetup;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "viewers-"));
  store = await openStore(`file:${dir}`);
  keys = await AccessKeys.open(store, LOCAL_PLACEMENT);
  setup = await startDashboard({ viewers: accessViewers(keys) });
});
afterEach(async () => {
  await setup.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function runningThopter(id: string): Promise<void> {
  await addThopter(setup.registry, id, { state: "working" });
  await setup.registry.transition(id, "working", "PreToolUse", {
    machine: { provider: "local", id: `local-${id}`, address: "127.0.0.1" },
  });
}

describe("dashboard viewers", () => {
  it("redirects to the thopter's own terminal and log with a token its stored key accepts", async () => {
    await runningThopter("t-1");
    const access = await keys.issue("t-1");
    for (const [path, port, scope] of [
      ["terminal", access.terminalPort, "terminal"],
      ["log", access.logPort, "log"],
    ] as const) {
      const res = await fetch(`${setup.url}/thopters/t-1/${path}`, { redirect: "manual", headers: BEARER });
      expect(res.status).toBe(302);
      const target = new URL(res.headers.get("location")!);
      expect(target.host).toBe(`127.0.0.1:${port}`);
      const token = target.searchParams.get("token")!;
      // The key as the thopter reads it from its spec file, after a hub restart.
      const stored = (await AccessKeys.open(store, LOCAL_PLACEMENT)).get("t-1")!.key;
      expect(verifyAccessToken(stored, token)).toMatchObject({ thopterId: "t-1", scope });
    }
    const page = await (await fetch(`${setup.url}/thopters/t-1`, { headers: BEARER })).text();
    expect(page).toContain("/thopters/t-1/terminal");
  });

  it("says the terminal is not available for a thopter the hub holds no key for", async () => {
    await runningThopter("t-2");
    const res = await fetch(`${setup.url}/thopters/t-2/terminal`, { redirect: "manual", headers: BEARER });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("Not available");
  });
});
