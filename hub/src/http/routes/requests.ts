import express, { type Router } from "express";
import type { RequestQueue } from "../../requests/queue.js";

/** `GET /api/requests`: every stored request, oldest first (queued ones wait for the scheduler). */
export function requestsRouter(queue: RequestQueue): Router {
  const router = express.Router();
  router.get("/api/requests", async (_req, res) => {
    res.json({ requests: await queue.list() });
  });
  return router;
}
