import { mkdirSync } from "node:fs";
import { join } from "node:path";
import pino, { type Logger } from "pino";
import { Outbox } from "../outbox.js";
import { budget } from "./budget.js";
import type { ModelProxyConfig } from "./config.js";
import { listenModelProxy } from "./server.js";
import { UsageReporter } from "./usage-reporter.js";
import { UsageStore } from "./usage-store.js";

export interface ModelProxy {
  /** What Claude Code gets as ANTHROPIC_BASE_URL. */
  url: string;
  store: UsageStore;
  outbox: Outbox;
  close(): Promise<void>;
}

/** Starts the model proxy: its state (usage totals, outbox) resumed from `stateDir`, listening on 127.0.0.1. */
export async function startModelProxy(
  config: ModelProxyConfig,
  log: Logger = pino({ name: "model-proxy" }),
): Promise<ModelProxy> {
  const outboxDir = join(config.stateDir, "outbox");
  mkdirSync(outboxDir, { recursive: true, mode: 0o700 });
  const outbox = new Outbox({
    dir: outboxDir,
    url: new URL("/v1/reports", config.collectorUrl).toString(),
    token: config.reportToken,
    log,
    ...config.outbox,
  });
  outbox.start();
  const store = new UsageStore(config.stateDir);
  const reporter = new UsageReporter(outbox, store, config.reportEveryMs);
  const server = await listenModelProxy({
    config,
    store,
    reporter,
    budget: budget(config.maxCostUsd, config.prices),
    log,
  });
  log.info(
    {
      url: server.url,
      upstream: new URL(config.credential.baseUrl ?? "https://api.anthropic.com").origin,
      kind: config.credential.kind,
      maxCostUsd: config.maxCostUsd,
    },
    "model proxy listening",
  );
  return {
    url: server.url,
    store,
    outbox,
    async close() {
      await server.close();
      reporter.flush();
      await outbox.stop();
    },
  };
}
