import express, { type Router } from "express";

export interface HealthStatus {
  /** Completed poll cycles since start. */
  polls: number;
  repos: string[];
  /** Repositories whose last poll cycle failed (GitHub unreachable, token refused…); see the log for why. */
  failing: string[];
}

/** `GET /healthz`: 200 while the process serves; the body says whether every repository's last poll succeeded. */
export function healthRouter(status: () => HealthStatus): Router {
  const router = express.Router();
  router.get("/healthz", (_req, res) => {
    const s = status();
    res.json({ status: s.failing.length === 0 ? "ok" : "degraded", ...s });
  });
  return router;
}
