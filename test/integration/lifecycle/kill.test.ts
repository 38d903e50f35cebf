import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { LocalProvider } from "@thopter/hub/providers/local/local-provider";
import { RequestQueue } from "@thopter/hub/requests/queue";
import { startThopterServices, type ThopterServices } from "@thopter/hub/scheduler/index";
import { openStore } from "@thopter/hub/store/index";
import type { Store } from "@thopter/hub/store/store";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { assertNoProcessesMentioning } from "../../helpers/leftovers.js";
import { until } from "../hub/harness.js";
import { lifecycleConfig, SIM } from "./fixtures.js";

const KILLED_HUB = join(import.meta.dirname, "killed-hub.ts");
const log = pino({ level: "silent" });
let dir: string;
let store: Store | undefined;
let local: LocalProvider | undefined;
let services: ThopterServices | undefined;

afterEach(async () => {
  await services?.stop();
  for (const machine of (await local?.list()) ?? []) await local!.destroy(machine.ref);
  await store?.close();
  await rm(dir, { recursive: true, force: true });
  await assertNoProcessesMentioning(dir); // the killed hub and its machine's processes
});

it("a hub killed -9 right after making a machine: the restarted hub replaces it, one machine, one directory", async () => {
  dir = await mkdtemp(join(tmpdir(), "killed-hub-"));
  const stateDir = join(dir, "state");
  const machinesDir = join(dir, "machines");
  store = await openStore(`file:${stateDir}`);
  const queue = new RequestQueue(store);
  const { request } = await queue.create(
    {
      repo: "acme/widgets",
      issueNumber: 5,
      commentId: 55,
      author: "alice",
      authorAssociation: "OWNER",
      url: "https://github.test/acme/widgets/issues/5#issuecomment-55",
      via: "poll",
      createdAt: new Date().toISOString(),
    },
    "Widgets wobble",
    { kind: "start", gc: "default", prompt: "default", count: 1, instructions: "" },
  );
  await queue.markAcknowledged(request.id);

  // A real hub process (sharing the store folder) provisions it and is killed the moment the machine exists.
  const child = spawn(process.execPath, ["--conditions=thopter-source", "--import", "tsx", KILLED_HUB], {
    env: { ...process.env, STATE_DIR: stateDir, MACHINES_DIR: machinesDir },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const created = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line.startsWith("created ")) resolve(line.slice("created ".length));
    });
    child.once("exit", (code) => reject(new Error(`killed-hub exited with ${code} before making a machine`)));
  });
  child.kill("SIGKILL");
  await exited;

  local = new LocalProvider({ root: machinesDir, log, stopGraceMs: 1_000 });
  const [first] = await local.list();
  expect(first?.thopterId).toBe(created);

  services = await startThopterServices(lifecycleConfig(dir), {
    store,
    queue,
    provider: local,
    provisioningNotices: { provisioned: async () => {}, failed: async () => {} },
    log,
    entrypoint: [process.execPath, SIM],
  });
  await services.scheduler.idle();
  const machines = await local.list();
  expect(machines.map((m) => m.thopterId)).toEqual([created]);
  expect(machines[0]!.createdAt).not.toBe(first!.createdAt);
  await until(() => services!.registry.get(created)?.state === "working", 20_000, "the new machine's report");
  expect((await queue.get(request.id))?.state).toBe("provisioned");
});
