import type { PriceTable, ThopterRecord, TokenCounts } from "@thopter/protocol";
import { Gauge, type Registry as MetricsRegistry } from "prom-client";
import { usageView } from "./view.js";

const KINDS: ReadonlyArray<keyof TokenCounts> = ["input", "output", "cacheRead", "cacheWrite"];
const KIND_LABEL: Record<keyof TokenCounts, string> = {
  input: "input",
  output: "output",
  cacheRead: "cache_read",
  cacheWrite: "cache_write",
};

/**
 * Usage on /metrics, worked out from the records at each scrape (so a thopter's series go with its record): per
 * thopter the figure the dashboard shows (`source` says whose count it is), and the swarm's totals.
 */
export function registerUsageMetrics(
  metrics: MetricsRegistry,
  records: () => readonly Readonly<ThopterRecord>[],
  prices: PriceTable,
): void {
  const views = () =>
    records().flatMap((r) => {
      const view = usageView(r.usage, prices);
      return view ? [{ id: r.id, view }] : [];
    });
  new Gauge({
    name: "thopter_usage_tokens",
    help: "Model tokens a thopter used, by model and kind (source: proxy = counted by the model proxy, transcript = reported by the thopter)",
    labelNames: ["thopter", "model", "kind", "source"] as const,
    registers: [metrics],
    collect() {
      this.reset();
      for (const { id, view } of views()) {
        for (const [model, counts] of Object.entries(view.shown.models)) {
          for (const k of KINDS)
            this.set({ thopter: id, model, kind: KIND_LABEL[k], source: view.shown.source }, counts[k]);
        }
      }
    },
  });
  new Gauge({
    name: "thopter_usage_cost_usd",
    help: "What a thopter's tokens cost in US dollars, for the models the price table knows",
    labelNames: ["thopter", "source"] as const,
    registers: [metrics],
    collect() {
      this.reset();
      for (const { id, view } of views()) this.set({ thopter: id, source: view.shown.source }, view.shown.usd);
    },
  });
  new Gauge({
    name: "thopter_swarm_usage_tokens",
    help: "Model tokens of every thopter with a record, by model and kind",
    labelNames: ["model", "kind"] as const,
    registers: [metrics],
    collect() {
      this.reset();
      for (const { view } of views()) {
        for (const [model, counts] of Object.entries(view.shown.models)) {
          for (const k of KINDS) this.inc({ model, kind: KIND_LABEL[k] }, counts[k]);
        }
      }
    },
  });
  new Gauge({
    name: "thopter_swarm_usage_cost_usd",
    help: "What every thopter with a record cost in US dollars, for the models the price table knows",
    registers: [metrics],
    collect() {
      this.set(views().reduce((sum, { view }) => sum + view.shown.usd, 0));
    },
  });
}
