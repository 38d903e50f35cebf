import express, { type Router } from "express";
import type { Registry } from "prom-client";

/** `GET /metrics`: Prometheus text format. */
export function metricsRouter(registry: Registry): Router {
  const router = express.Router();
  router.get("/metrics", async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  return router;
}
