import type { ThopterRecord } from "@thopter/protocol";
import { describe, expect, it } from "vitest";
import { reapReason } from "../src/reaper/reaper.js";

const T0 = Date.parse("2026-01-01T12:00:00Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const limits = { idleTimeoutMin: 60, maxLifetimeMin: 720, orphanGraceMin: 10, budgetGraceMin: 5 };
const record = (patch: Partial<ThopterRecord>) =>
  ({ state: "blocked", createdAt: at(0), stateSince: at(1), lastReportAt: at(1), ...patch }) as ThopterRecord;

describe("the reaper and a spent budget", () => {
  it("stops BUDGET_GRACE_MIN after the proxy's report, even when a prompt revived the thopter meanwhile", () => {
    const spent = { budgetSpentAt: at(1) };
    expect(reapReason(record(spent), T0 + 5 * 60_000, limits)).toBeUndefined();
    expect(reapReason(record(spent), T0 + 6 * 60_000, limits)).toMatch(/model budget \(MAX_COST_USD\) is spent/);
    const revived = record({ ...spent, state: "working", stateSince: at(4), lastReportAt: at(5.9) });
    expect(reapReason(revived, T0 + 6 * 60_000, limits)).toMatch(/model budget/);
    // Without the proxy's word, a blocked thopter waits for the idle timeout.
    expect(reapReason(record({}), T0 + 6 * 60_000, limits)).toBeUndefined();
  });

  it("stops every running thopter while the daily budget is spent, but leaves provisioning to the scheduler", () => {
    const daily = { ...limits, dailyBudgetSpent: "the swarm's daily budget (MAX_DAILY_COST_USD) is spent" };
    for (const state of ["booting", "working", "waiting", "done", "blocked"] as const) {
      expect(reapReason(record({ state }), T0 + 60_000, daily)).toBe(daily.dailyBudgetSpent);
    }
    expect(reapReason(record({ state: "provisioning" }), T0 + 60_000, daily)).toBeUndefined();
  });
});
