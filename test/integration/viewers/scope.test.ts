import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyAccessToken } from "@thopter/agent/access/index";
import { startSessionLogServer } from "@thopter/agent/session-log/index";
import { AccessKeys, accessViewers, LOCAL_PLACEMENT, VIEWER_TOKEN_TTL_SECONDS } from "@thopter/hub/access/index";
import { openStore, type Store } from "@thopter/hub/store/index";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { addThopter, BEARER, type DashboardSetup, startDashboard } from "../dashboard/harness.js";

// Viewer links the dashboard hands out, against the thopters' real session-log servers: one thopter each, bounded.
const log = pino({ level: "silent" });
let dir: string;
let store: Store;
let keys: AccessKeys;
let setup: DashboardSetup;
const servers: { close(): Promise<void> }[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "viewer-scope-"));
  store = await openStore(`file:${join(dir, "state")}`);
  keys = await AccessKeys.open(store, LOCAL_PLACEMENT);
  setup = await startDashboard({ viewers: accessViewers(keys) });
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await setup.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** A running thopter with its own key and a real session-log server on the port the hub gave it. */
async function thopter(id: string): Promise<void> {
  await addThopter(setup.registry, id, { state: "working" });
  await setup.registry.transition(id, "working", "PreToolUse", {
    machine: { provider: "local", id: `local-${id}`, address: "127.0.0.1" },
  });
  const access = await keys.issue(id);
  const projects = join(dir, id, "projects");
  await mkdir(projects, { recursive: true });
  servers.push(
    await startSessionLogServer({ key: access.key, thopterId: id, dir: projects, port: access.logPort, log }),
  );
}

/** The viewer link the dashboard redirects a logged-in visitor to. */
async function link(id: string, viewer: "log" | "boot-log"): Promise<URL> {
  const res = await fetch(`${setup.url}/thopters/${id}/${viewer}`, { redirect: "manual", headers: BEARER });
  expect(res.status).toBe(302);
  return new URL(res.headers.get("location")!);
}

describe("viewer links", () => {
  it("open only their own thopter's log, for a bounded time", async () => {
    await thopter("t-a");
    await thopter("t-b");
    const a = await link("t-a", "log");
    const b = await link("t-b", "log");
    expect((await fetch(a)).status).toBe(200);
    expect((await fetch(b)).status).toBe(200);
    const claims = verifyAccessToken(keys.get("t-a")!.key, a.searchParams.get("token")!);
    expect(claims.exp - Date.now() / 1000).toBeLessThanOrEqual(VIEWER_TOKEN_TTL_SECONDS);

    // A's link (and its boot-log link) on B's server: refused, nothing of B's shown.
    for (const own of [a, await link("t-a", "boot-log")]) {
      const moved = new URL(own);
      moved.port = b.port;
      const res = await fetch(moved);
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain("t-b");
    }
    // A link minted one lifetime ago has expired.
    const old = keys.mint("t-a", "log", Date.now() - (VIEWER_TOKEN_TTL_SECONDS + 1) * 1000)!;
    const expired = await fetch(`${a.origin}/?token=${old}`);
    expect([expired.status, await expired.text()]).toEqual([401, expect.stringMatching(/expired/)]);
  });

  it("are handed out only with the dashboard token", async () => {
    await thopter("t-a");
    for (const viewer of ["terminal", "log", "boot-log"]) {
      const res = await fetch(`${setup.url}/thopters/t-a/${viewer}`, { redirect: "manual" });
      expect(res.status).toBe(401);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).not.toMatch(/token=[A-Za-z0-9_.-]{20,}/);
    }
  });
});
