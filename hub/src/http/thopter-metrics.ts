import { type PriceTable, ThopterState } from "@thopter/protocol";
import { Gauge, type Registry as MetricsRegistry } from "prom-client";
import type { Registry } from "../registry/index.js";
import { registerUsageMetrics } from "../usage/metrics.js";

/**
 * `thopter_thopters{state}` on /metrics: every state is present (0 when empty), so dashboards see a flat line; and
 * the thopters' model usage and cost (`registerUsageMetrics`).
 */
export function registerThopterGauge(metrics: MetricsRegistry, registry: Registry, prices: PriceTable): void {
  registerUsageMetrics(metrics, () => registry.list(), prices);
  new Gauge({
    name: "thopter_thopters",
    help: "Thopter records by lifecycle state",
    labelNames: ["state"] as const,
    registers: [metrics],
    collect() {
      const counts = new Map<string, number>(ThopterState.options.map((s) => [s, 0]));
      for (const r of registry.list()) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
}
