import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRoot, startWorld, text, type World } from "./harness.js";

const statuses = (w: World) => w.receiver.reports.flatMap((r) => (r.body.kind === "status" ? [r.body] : []));
const pendingFiles = (w: World) => readdirSync(join(w.config.stateDir, "outbox")).filter((f) => f.endsWith(".json"));

describe.skipIf(!isRoot)(
  "report_status → collector through the durable outbox (root only: broker config names `thopter`)",
  () => {
    let w: World;
    beforeAll(async () => {
      w = await startWorld();
    });
    afterAll(() => w?.close());

    it("forwards a status with the broker-role token, and audits every call to the hub", async () => {
      const result = await w.call("report_status", { state: "working", summary: "Reading the code" });
      expect(result.isError, text(result)).toBeFalsy();
      await w.receiver.waitFor((r) => r.some((x) => x.body.kind === "status"));
      expect(statuses(w)).toEqual([
        { kind: "status", state: "working", summary: "Reading the code", branch: w.workBranch },
      ]);
      await w.call("get_issue");
      await w.receiver.waitFor((r) => r.some((x) => x.body.kind === "audit" && x.body.tool === "get_issue"));
      const audits = w.receiver.reports.filter((r) => r.body.kind === "audit").map((r) => r.body);
      expect(audits.map((a) => a.kind === "audit" && [a.tool, a.outcome])).toEqual([
        ["report_status", "ok"],
        ["get_issue", "ok"],
      ]);
      expect(w.receiver.refused).toBe(0);
    });

    it("keeps reports made while the hub is down and delivers them later, in order, once each", async () => {
      w.receiver.mode = "down";
      const sent = ["first", "second", "third"];
      for (const [i, summary] of sent.entries()) {
        const r = await w.call("report_status", { state: i === 2 ? "done" : "working", summary });
        expect(r.isError, text(r)).toBeFalsy();
      }
      await new Promise((r) => setTimeout(r, 500));
      expect(statuses(w).map((s) => s.summary)).toEqual(["Reading the code"]);
      expect(pendingFiles(w).length).toBeGreaterThanOrEqual(3);

      // The hub comes back but loses its answers for a while: the broker resends the same report, same key.
      const delivered = w.receiver.deliveries;
      w.receiver.mode = "lose-answers";
      await w.receiver.waitFor(() => w.receiver.deliveries >= delivered + 3);
      w.receiver.mode = "up";
      await w.receiver.waitFor(() => pendingFiles(w).length === 0);
      expect(statuses(w).map((s) => s.summary)).toEqual(["Reading the code", ...sent]);
      expect(w.receiver.deliveries).toBeGreaterThan(w.receiver.reports.length);
      const keys = w.receiver.reports.map((r) => r.idempotencyKey);
      expect(new Set(keys).size).toBe(keys.length);
    });

    it("survives a broker restart with reports still in the outbox", async () => {
      w.receiver.mode = "down";
      await w.call("report_status", { state: "blocked", summary: "Waiting for credentials" });
      await w.restart();
      expect(pendingFiles(w).length).toBeGreaterThan(0);
      w.receiver.mode = "up";
      await w.receiver.waitFor((r) => r.some((x) => x.body.kind === "status" && x.body.state === "blocked"));
      expect(statuses(w).at(-1)).toMatchObject({ state: "blocked", summary: "Waiting for credentials" });
    });

    it("redacts secrets from summaries, and refuses bad states with a usable message", async () => {
      await w.call("report_status", { state: "done", summary: `done; key sk-ant-api03-${"k".repeat(30)}` });
      await w.receiver.waitFor((r) => r.some((x) => x.body.kind === "status" && x.body.summary.includes("[REDACTED]")));
      const bad = await w.call("report_status", { state: "finished", summary: "x" });
      expect(bad.isError).toBe(true);
      expect(text(bad)).toMatch(/state/);
    });
  },
);
