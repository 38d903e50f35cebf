import { describe, expect, it } from "vitest";
import { useWholeHub } from "./harness.js";

const token = "dashboard-token-for-tests-7c1e";
const t = useWholeHub({ DASHBOARD_TOKEN: token });

describe("the whole hub with DASHBOARD_TOKEN", () => {
  it("refuses actions without the bearer token, even from its own origin, and accepts them with it", async () => {
    const json = { "content-type": "application/json" };
    expect((await t.post("/api/pause", { ...json, origin: t.hub.url })).status).toBe(401);
    expect((await t.post("/api/pause", { ...json, authorization: `Bearer ${token}x` })).status).toBe(401);
    expect((await t.post("/api/pause", { ...json, authorization: token })).status).toBe(401);
    expect((await t.post("/api/thopters/anything/stop", json)).status).toBe(401);
    expect(t.services.scheduler.isPaused).toBe(false);

    expect((await t.post("/api/pause", { ...json, authorization: `Bearer ${token}` })).status).toBe(200);
    expect(t.services.scheduler.isPaused).toBe(true);
    expect((await t.post("/api/resume", { authorization: `Bearer ${token}` })).status).toBe(200);
    expect(t.services.scheduler.isPaused).toBe(false);
  });
});
