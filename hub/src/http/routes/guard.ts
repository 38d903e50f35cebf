import express, { type Router } from "express";
import type { DashboardAuth } from "../../dashboard/auth.js";

/**
 * Mounted before every other route but /healthz: `/api/*` and `/metrics` show the swarm, so each needs the dashboard
 * token (`Authorization: Bearer`, or a browser session logged in with it), whichever router serves it.
 */
export function apiGuard(auth: DashboardAuth): Router {
  const router = express.Router();
  router.use(["/api", "/metrics"], auth.guardRead);
  return router;
}
