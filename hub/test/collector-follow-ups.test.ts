import type { StoredFollowUp } from "@thopter/protocol";
import { describe, expect, it } from "vitest";
import { collectorFixture, status } from "./collector-fixtures.js";

const fx = collectorFixture();

const followUp = (n: number): StoredFollowUp => ({
  id: `req-${n}`,
  text: `Follow-up ${n}`,
  pullNumber: 12,
  requestedAt: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
});

describe("collector answers carry a thopter's pending follow-ups", () => {
  it("offers them oldest first, five at a time, to that thopter only, until it confirms them, across a restart", async () => {
    const a = await fx.addThopter("fa", "done");
    const b = await fx.addThopter("fb", "working");
    const followUps = [1, 2, 3, 4, 5, 6, 7].map(followUp);
    await fx.hub.registry.update("fa", { patch: { followUps }, durable: true });
    const ids = async (token: string, delivered?: string[]) => {
      const res = await fx.post("/v1/status", token, status({ event: "heartbeat", reason: "heartbeat", delivered }));
      expect(res.status).toBe(200);
      return (res.body as { followUps: { id: string }[] }).followUps.map((f) => f.id);
    };

    expect(await ids(a.status)).toEqual(["req-1", "req-2", "req-3", "req-4", "req-5"]);
    // Another thopter's observer can neither see them nor confirm them away.
    expect(await ids(b.status, ["req-1", "req-2"])).toEqual([]);
    expect(await ids(a.status)).toEqual(["req-1", "req-2", "req-3", "req-4", "req-5"]);

    // Confirmed ids are off the very answer to the report that names them, and stay off after a restart.
    expect(await ids(a.status, ["req-1", "req-2", "req-3", "req-4", "req-5"])).toEqual(["req-6", "req-7"]);
    await fx.restart();
    expect(await ids(a.status)).toEqual(["req-6", "req-7"]);
    expect((await fx.restartedView("fa"))?.followUps?.filter((f) => f.deliveredAt).map((f) => f.id)).toHaveLength(5);
    // A settled thopter stays settled on a heartbeat: only Claude's new prompt (its hook) takes it back to work.
    expect(fx.hub.registry.get("fa")?.state).toBe("done");
    expect(await ids(a.status, ["req-6", "req-7", "req-1"])).toEqual([]);
    const revived = await fx.post("/v1/status", a.status, status({ event: "UserPromptSubmit" }));
    expect(revived.body.state).toBe("working");
  });

  it("refuses a report that names too many delivered ids", async () => {
    const a = await fx.addThopter("fc", "working");
    const delivered = Array.from({ length: 51 }, (_, n) => `req-${n}`);
    const res = await fx.post("/v1/status", a.status, status({ delivered }));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^invalid report: delivered: /);
  });
});
