import express, { type Express, type Router } from "express";
import type { Logger } from "pino";
import { pinoHttp } from "pino-http";

/** A login link's `?token=` never reaches the log. */
const withoutToken = (url: string) => url.replace(/([?&]token=)[^&#]*/g, "$1[REDACTED]");

/**
 * The hub's Express app on HUB_HOST:HUB_PORT. Each route lives in its own small module (http/routes/*, the webhook in
 * watcher/webhook.ts) and is mounted here, so later features add a router rather than edit this file.
 */
export function createApp(log: Logger, routers: Router[]): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(
    pinoHttp({
      logger: log.child({ component: "http" }),
      // Probes and scrapes every few seconds would drown the log.
      autoLogging: { ignore: (req) => req.url === "/healthz" || req.url === "/metrics" },
      // Only what helps debugging: no headers (webhook signatures, authorization) in the log.
      serializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, url: withoutToken(req.url) }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  for (const router of routers) app.use(router);
  app.use((_req, res) => {
    res.status(404).json({ error: "no such route" });
  });
  return app;
}
