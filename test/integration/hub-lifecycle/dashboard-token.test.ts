import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { requestsAs, type UserRequest, type UserResponse } from "../../helpers/as-user.js";
import { bearer, REPO, until } from "../hub/harness.js";
import { useWholeHub } from "./harness.js";

// The whole hub without DASHBOARD_TOKEN (the demo's default) is closed: a generated token guards every page, API,
// action, live socket and viewer link. The attacks come from a real unprivileged process on the same host.
const NOBODY = { uid: 65534, gid: 65534 };
const run = promisify(execFile);
const status = (r: UserResponse) => ("status" in r ? r.status : r.error);

describe("the whole hub, closed by default", () => {
  const t = useWholeHub();

  async function provisionOne(): Promise<{ id: string; branch: string }> {
    const comment = t.command("/thopter fix the wobble");
    await t.hub.pollNow();
    await until(
      () => t.peer.reactions(REPO, { comment }).some((r) => r.content === "rocket"),
      20_000,
      "🚀 on the command",
    );
    const [thopter] = await t.thopters();
    return { id: thopter!.id, branch: thopter!.branch };
  }

  it("generates a token once (0600 in the state folder), prints the login URL, and keeps it across a restart", async () => {
    const file = join(t.config.STORE_URL.slice("file:".length), ".dashboard-token");
    const token = t.hub.dashboardToken;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await readFile(file, "utf8")).trim()).toBe(token);
    const info = await stat(file);
    expect([info.mode & 0o777, info.uid]).toEqual([0o600, process.getuid!()]);
    // A thopter's uid (the first of the range) cannot read it.
    const { first } = t.config.LOCAL_THOPTER_UID_RANGE;
    const read = await run("cat", [file], { uid: first, gid: first }).catch((err: { stderr: string }) => err);
    expect(read).toMatchObject({ stderr: expect.stringMatching(/Permission denied/) });
    expect(t.announced).toEqual([
      `Dashboard: open ${t.hub.url}/?token=${token} to log in (the token is kept in ${file})`,
    ]);

    const login = await fetch(t.hub.loginUrl, { redirect: "manual" });
    expect([login.status, login.headers.get("location")]).toEqual([303, "/"]);
    expect(login.headers.getSetCookie().find((c) => c.startsWith("thopter_auth="))).toMatch(
      /; Path=\/; HttpOnly; SameSite=Strict$/,
    );

    await t.hub.stop();
    await t.restart();
    expect(t.hub.dashboardToken).toBe(token);
    expect(t.announced[1]).toContain(`?token=${token} `);
  });

  it("refuses every page, API, action, live socket and viewer link without the token; /healthz names no thopter", async () => {
    const { id, branch } = await provisionOne();
    const reads = [
      "/",
      `/thopters/${id}`,
      `/thopters/${id}/terminal`,
      `/thopters/${id}/log`,
      `/thopters/${id}/boot-log`,
      "/api/thopters",
      `/api/thopters/${id}`,
      "/api/requests",
      "/metrics",
      // Other spellings the router also serves.
      "/API/Thopters",
      "/api/thopters/",
      "/metrics/",
    ];
    const json = { "content-type": "application/json", origin: t.hub.url };
    const actions = ["/api/pause", "/api/resume", `/api/thopters/${id}/stop`].map(
      (path): UserRequest => ({ url: t.hub.url + path, method: "POST", headers: json, body: "{}" }),
    );
    const live: UserRequest = { url: `${t.hub.url}/dashboard/live`, upgrade: true, headers: { origin: t.hub.url } };
    const wrong = { authorization: `Bearer ${t.hub.dashboardToken.slice(0, -1)}x` };
    const attempts: UserRequest[] = [
      ...reads.map((path) => ({ url: t.hub.url + path })),
      ...reads.map((path) => ({ url: t.hub.url + path, headers: wrong })),
      ...actions,
      live,
      { url: `${t.hub.url}/healthz` },
    ];
    const answers = await requestsAs(NOBODY.uid, NOBODY.gid, attempts);
    const health = answers.pop()!;
    expect(status(answers.pop()!)).toBe(403); // the live socket
    expect(answers.map(status)).toEqual(attempts.slice(0, -2).map(() => 401));
    for (const [i, answer] of answers.entries()) {
      const text = JSON.stringify(answer);
      // The login form sends the visitor back to the path it asked for; nothing else about a thopter shows.
      if (!attempts[i]!.url.includes(id)) expect(text).not.toContain(id);
      for (const secret of [branch, "Wobbly", "fix the wobble"]) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/token=[A-Za-z0-9_.-]{20,}/);
    }
    expect(t.services.scheduler.isPaused).toBe(false);
    expect(t.services.registry.get(id)?.state).not.toMatch(/stopping|gone/);

    expect(status(health)).toBe(200);
    const body = "body" in health ? health.body : "";
    expect(Object.keys(JSON.parse(body)).sort()).toEqual([
      "failing",
      "github",
      "polls",
      "provider",
      "repos",
      "status",
      "store",
    ]);
    for (const secret of [id, branch, "Wobbly", `#${t.issue}`]) expect(body).not.toContain(secret);

    // The same requests with the token (as a script would send it) work.
    const withToken = await requestsAs(NOBODY.uid, NOBODY.gid, [
      ...reads.map((path) => ({ url: t.hub.url + path, headers: bearer(t.hub) })),
      { ...live, headers: { ...live.headers, ...bearer(t.hub) } },
      { ...actions[0]!, headers: { ...json, ...bearer(t.hub) } },
    ]);
    expect(withToken.map(status)).toEqual([200, 200, 302, 302, 302, 200, 200, 200, 200, 200, 200, 200, 101, 200]);
    expect(t.services.scheduler.isPaused).toBe(true);
  });

  it("refuses a JSON action carried by a logged-in browser's cookie alone: actions need the bearer token", async () => {
    const login = await fetch(t.hub.loginUrl, { redirect: "manual" });
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    expect((await fetch(`${t.hub.url}/api/thopters`, { headers: { cookie } })).status).toBe(200);
    const res = await t.post("/api/pause", { "content-type": "application/json", origin: t.hub.url, cookie });
    expect(res.status).toBe(401);
    expect(t.services.scheduler.isPaused).toBe(false);
  });
});

describe("the whole hub with DASHBOARD_TOKEN", () => {
  const token = "dashboard-token-for-tests-7c1e";
  const h = useWholeHub({ DASHBOARD_TOKEN: token });

  it("uses it, keeps no file and prints no token; actions need it as a bearer token", async () => {
    expect(h.hub.dashboardToken).toBe(token);
    expect(h.announced).toEqual([`Dashboard: ${h.hub.url}/ (log in with DASHBOARD_TOKEN)`]);
    await expect(stat(join(h.config.STORE_URL.slice("file:".length), ".dashboard-token"))).rejects.toThrow(/ENOENT/);
    const json = { "content-type": "application/json" };
    expect((await h.post("/api/pause", { ...json, authorization: `Bearer ${token}x` })).status).toBe(401);
    expect((await h.post("/api/pause", { ...json, authorization: token })).status).toBe(401);
    expect(h.services.scheduler.isPaused).toBe(false);
    expect((await h.post("/api/pause", { ...json, authorization: `Bearer ${token}` })).status).toBe(200);
    expect(h.services.scheduler.isPaused).toBe(true);
  });
});
