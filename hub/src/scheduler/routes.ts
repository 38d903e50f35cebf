import express, { type RequestHandler, type Router } from "express";
import type { Stopper } from "../reaper/stop.js";
import type { Registry } from "../registry/index.js";
import type { Scheduler } from "./scheduler.js";

/**
 * The lifecycle actions: `POST /api/pause`, `POST /api/resume`, `POST /api/thopters/:id/stop`. `authorize` runs
 * first (the hub's dashboard-token check); these change what runs, so they are never open.
 */
export function controlRouter(deps: {
  scheduler: Scheduler;
  stopper: Stopper;
  registry: Registry;
  authorize: RequestHandler;
}): Router {
  const { scheduler, stopper, registry, authorize } = deps;
  const router = express.Router();
  router.post("/api/pause", authorize, (_req, res) => {
    scheduler.pause();
    res.json({ paused: true });
  });
  router.post("/api/resume", authorize, (_req, res) => {
    scheduler.resume();
    res.json({ paused: false });
  });
  router.post("/api/thopters/:id/stop", authorize, async (req, res) => {
    const id = String(req.params.id);
    const record = registry.get(id);
    if (!record) {
      res.status(404).json({ error: `no thopter ${id}: GET /api/thopters lists them` });
      return;
    }
    try {
      await stopper.stop(record.id, "stopped on demand (POST /api/thopters/:id/stop)");
      res.json({ id: record.id, state: registry.get(record.id)?.state });
    } catch (err) {
      res.status(502).json({
        error: `could not destroy the machine yet (${(err as Error).message}); it stays stopping and the reaper retries`,
        state: registry.get(record.id)?.state,
      });
    }
  });
  return router;
}
