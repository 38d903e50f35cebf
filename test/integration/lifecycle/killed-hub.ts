// The scheduler side of a hub as its own process, for the kill -9 test: it provisions the queued requests in
// STATE_DIR with the local provider under MACHINES_DIR, prints "created <thopterId>" once a machine exists, and then
// never records it (so the test can kill it at exactly that point).
import { LocalProvider } from "@thopter/hub/providers/local/local-provider";
import { RequestQueue } from "@thopter/hub/requests/queue";
import { startThopterServices } from "@thopter/hub/scheduler/index";
import { openStore } from "@thopter/hub/store/index";
import { pino } from "pino";
import { lifecycleConfig, SIM, wrapProvider } from "./fixtures.js";

const log = pino({ level: "silent" });
const store = await openStore(`file:${process.env.STATE_DIR}`);
const local = new LocalProvider({ root: process.env.MACHINES_DIR!, log, stopGraceMs: 1_000 });
await startThopterServices(lifecycleConfig(process.env.STATE_DIR!), {
  store,
  queue: new RequestQueue(store),
  provider: wrapProvider(local, {
    async create(spec, owner) {
      await local.create(spec, owner);
      process.stdout.write(`created ${owner.thopterId}\n`);
      return new Promise(() => {});
    },
  }),
  provisioningNotices: { provisioned: async () => {}, failed: async () => {} },
  log,
  entrypoint: [process.execPath, SIM],
});
