import { request } from "node:http";
import type { StatusReport } from "@thopter/protocol";
import { describe, expect, it } from "vitest";
import { brokerStatus, collectorFixture, now, status } from "./collector-fixtures.js";

const c = collectorFixture();

describe("collector", () => {
  describe("refuses", () => {
    it("requests without a valid token for the endpoint's role (401, with the reason)", async () => {
      const t = await c.addThopter("t1");
      const other = await c.addThopter("t2");
      const forged = t.status.replace(/.{4}$/, "AAAA");
      const otherThopterSecret = t.status.replace("t1", "t2");
      const cases: Array<[string, string | undefined, unknown]> = [
        ["/v1/status", undefined, status()],
        ["/v1/status", "not-a-token", status()],
        ["/v1/status", forged, status()],
        ["/v1/status", otherThopterSecret, status()],
        ["/v1/status", t.broker, status()], // a broker token cannot post status
        ["/v1/reports", t.status, brokerStatus("k", "done")], // a status token cannot post reports
        ["/v1/reports", other.status, brokerStatus("k", "done")],
      ];
      for (const [path, token, body] of cases) {
        const res = await c.post(path, token, body);
        expect(res.status, `${path} with ${token}`).toBe(401);
        expect(res.body.error).toMatch(/token/);
      }
      expect(c.hub.registry.get("t1")?.state).toBe("booting");
      expect(c.hub.registry.get("t1")?.timeline).toHaveLength(1);
    });

    it("tokens that were revoked, or belong to a thopter that is gone", async () => {
      const t = await c.addThopter("t1");
      const u = await c.addThopter("t2");
      await c.hub.tokens.revoke("t1");
      expect((await c.post("/v1/status", t.status, status())).status).toBe(401);
      await c.hub.registry.transition("t2", "gone", "destroyed");
      const res = await c.post("/v1/status", u.status, status());
      expect(res).toMatchObject({ status: 401, body: { error: "thopter t2 is gone" } });
    });

    it("tokens minted before a restart still work after it; plain tokens are never stored", async () => {
      const t = await c.addThopter("t1");
      await c.restart();
      expect((await c.post("/v1/status", t.status, status())).status).toBe(200);
      const raw = JSON.stringify(await c.hub.store.list("tokens/"));
      expect(raw).not.toContain(t.status.split(".")[2]);
      expect(raw).not.toContain(t.broker.split(".")[2]);
    });

    it("malformed and invalid bodies (400, naming what is wrong)", async () => {
      const t = await c.addThopter("t1");
      const notJson = await c.post("/v1/status", t.status, "{state: working");
      expect(notJson.status).toBe(400);
      expect(notJson.body.error).toMatch(/not JSON/);

      const badState = await c.post("/v1/status", t.status, status({ state: "dancing" as StatusReport["state"] }));
      expect(badState.status).toBe(400);
      expect(badState.body.error).toMatch(/^invalid report: state:/);

      const noKey = await c.post("/v1/reports", t.broker, {
        at: now(),
        body: { kind: "status", state: "done", summary: "" },
      });
      expect(noKey.body.error).toMatch(/idempotencyKey/);

      const badTime = await c.post("/v1/status", t.status, status({ at: "yesterday" }));
      expect(badTime.body.error).toMatch(/at:/);
      expect(c.hub.registry.get("t1")?.state).toBe("booting");
    });

    it("bodies over the limit (413), whether announced or streamed", async () => {
      const t = await c.addThopter("t1");
      const huge = status({ detail: "x".repeat(100_000) });
      const announced = await c.post("/v1/status", t.status, huge);
      expect(announced.status).toBe(413);
      expect(announced.body.error).toMatch(/larger than 65536 bytes/);

      // Chunked, so the server only finds out while reading.
      const streamed = await new Promise<number>((resolve, reject) => {
        const req = request(`${c.hub.url}/v1/status`, {
          method: "POST",
          headers: { authorization: `Bearer ${t.status}`, "transfer-encoding": "chunked" },
        });
        req.on("response", (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on("error", reject);
        for (let i = 0; i < 10; i++) req.write("y".repeat(10_000));
        req.end();
      });
      expect(streamed).toBe(413);
    });

    it("other paths and methods", async () => {
      const t = await c.addThopter("t1");
      expect((await c.post("/v1/admin", t.status, status())).status).toBe(404);
      const get = await fetch(`${c.hub.url}/v1/status`, { headers: { authorization: `Bearer ${t.status}` } });
      expect(get.status).toBe(405);
    });
  });
});
