import express, { type Router } from "express";

/** `GET /healthz`: the process is up and serving; `polls` tells whether the watcher has completed a cycle yet. */
export function healthRouter(status: () => { polls: number; repos: string[] }): Router {
  const router = express.Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok", ...status() });
  });
  return router;
}
