import type { ThopterRequest } from "@thopter/protocol";
import { RequestState } from "@thopter/protocol";
import { Counter, Gauge, Registry } from "prom-client";

/** The hub's Prometheus metrics, in their own registry (several hubs can run in one test process). */
export function createMetrics(listRequests: () => Promise<ThopterRequest[]>) {
  const registry = new Registry();
  const polls = new Counter({
    name: "thopter_github_polls_total",
    help: "Conditional GitHub listing requests made by the poller",
    labelNames: ["repo", "endpoint"] as const,
    registers: [registry],
  });
  const notModified = new Counter({
    name: "thopter_github_poll_not_modified_total",
    help: "Poller requests answered 304 Not Modified (free against the rate limit)",
    labelNames: ["repo", "endpoint"] as const,
    registers: [registry],
  });
  const pollErrors = new Counter({
    name: "thopter_github_poll_errors_total",
    help: "Poll cycles that failed after retries (the cursor stays, the next cycle retries)",
    labelNames: ["repo"] as const,
    registers: [registry],
  });
  const rateLimitRemaining = new Gauge({
    name: "thopter_github_rate_limit_remaining",
    help: "x-ratelimit-remaining from the last GitHub response, per repository token",
    labelNames: ["repo"] as const,
    registers: [registry],
  });
  const webhookDeliveries = new Counter({
    name: "thopter_webhook_deliveries_total",
    help: "GitHub webhook deliveries by event and outcome",
    labelNames: ["event", "outcome"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "thopter_requests",
    help: "Stored requests by state",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      const counts = Object.fromEntries(RequestState.options.map((s) => [s, 0])) as Record<string, number>;
      for (const r of await listRequests()) counts[r.state] = (counts[r.state] ?? 0) + 1;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  return { registry, polls, notModified, pollErrors, rateLimitRemaining, webhookDeliveries };
}
export type HubMetrics = ReturnType<typeof createMetrics>;
