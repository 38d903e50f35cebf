import express, { type Router } from "express";
import type { Registry } from "./registry.js";

/**
 * `GET /api/thopters` (newest first) and `GET /api/thopters/:id`: each thopter's state, issue, branch, machine and
 * timeline, as the registry holds them.
 */
export function thoptersRouter(registry: Registry): Router {
  const router = express.Router();
  router.get("/api/thopters", (_req, res) => {
    const thopters = registry.list().sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    res.json({ thopters });
  });
  router.get("/api/thopters/:id", (req, res) => {
    const record = registry.get(req.params.id);
    if (!record) {
      res.status(404).json({ error: `no thopter ${req.params.id}: GET /api/thopters lists them` });
      return;
    }
    res.json(record);
  });
  return router;
}
