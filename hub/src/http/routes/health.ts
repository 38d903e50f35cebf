import express, { type Router } from "express";
import { Gauge, type Registry as MetricsRegistry } from "prom-client";
import type { RepoHealth } from "../../watcher/repo-health.js";

/** One part the hub depends on: `ok`, `failing` (its last use failed), or `lost` (the store lost data: stopped). */
export interface PartHealth {
  state: "ok" | "failing" | "lost";
  /** What failed, for a part that is not ok. */
  detail?: string;
  since?: string;
}

export interface HealthStatus {
  /** Completed poll cycles since start. */
  polls: number;
  repos: string[];
  /** Repositories whose last poll cycle failed on GitHub's side (see `github` for why). */
  failing: string[];
  /** STORE_URL's store: a failed write (ENOSPC, EROFS, Redis down) shows here, never as a repository failing. */
  store: PartHealth;
  /** Per repository: its last poll cycle against GitHub (why it failed, in words), webhook signatures, budget left. */
  github: Record<string, RepoHealth>;
  /** The machines' provider (Fly or local), as its last create found it; absent on an intake-only hub. */
  provider?: PartHealth & { kind: string };
}

/** Every part by name (`store`, `github:<repo>`, `<provider kind>`), for metrics and the dashboard's warnings. */
export function healthParts(s: HealthStatus): Array<{ part: string; name: string; health: PartHealth }> {
  return [
    { part: "store", name: "store", health: s.store },
    ...Object.entries(s.github).map(([repo, health]) => ({ part: "github", name: repo, health })),
    ...(s.provider ? [{ part: "provider", name: s.provider.kind, health: s.provider }] : []),
  ];
}

/** Warnings for the dashboard: one line per part that is not ok, naming it and what failed. */
export function healthWarnings(s: HealthStatus): string[] {
  return healthParts(s)
    .filter(({ health }) => health.state !== "ok")
    .map(({ part, name, health }) => {
      const label = part === "github" ? `GitHub (${name})` : part === "provider" ? `provider ${name}` : "store";
      return `${label} is ${health.state}${health.detail ? `: ${health.detail}` : ""}`;
    });
}

/** `GET /healthz`: 200 while the process serves; the body names each part's state, `status` ok only if all are. */
export function healthRouter(status: () => HealthStatus): Router {
  const router = express.Router();
  router.get("/healthz", (_req, res) => {
    const s = status();
    const ok = healthParts(s).every(({ health }) => health.state === "ok");
    res.json({ status: ok ? "ok" : "degraded", ...s });
  });
  return router;
}

/** `thopter_hub_part_up{part,name}` on /metrics: 1 when the part is ok, 0 when failing, -1 when the store lost data. */
export function registerHealthGauge(metrics: MetricsRegistry, status: () => HealthStatus): void {
  new Gauge({
    name: "thopter_hub_part_up",
    help: "Health of each part the hub depends on: 1 ok, 0 failing, -1 lost (the store lost data)",
    labelNames: ["part", "name"] as const,
    registers: [metrics],
    collect() {
      for (const { part, name, health } of healthParts(status())) {
        this.set({ part, name }, health.state === "ok" ? 1 : health.state === "failing" ? 0 : -1);
      }
    },
  });
}
