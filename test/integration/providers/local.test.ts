import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalProvider } from "@thopter/hub/providers/local/local-provider";
import { readRecord } from "@thopter/hub/providers/local/machine-record";
import pino from "pino";
import { assertNoProcessesMentioning } from "../../helpers/leftovers.js";
import { IS_ROOT, providerContract } from "./contract.js";

providerContract("local", async () => {
  const root = await mkdtemp(join(tmpdir(), "thopter-local-"));
  const provider = new LocalProvider({
    root,
    log: pino({ level: "silent" }),
    stopGraceMs: 1_000,
  });
  return {
    provider,
    expectedIsolation: IS_ROOT ? "full" : "off",
    volumeExists: (ref) =>
      access(join(root, ref.id)).then(
        () => true,
        () => false,
      ),
    // As root each local thopter has its own user, named in its machine record.
    agentUser: async (ref) => (await readRecord(join(root, ref.id)))?.agent?.name ?? "thopter",
    close: async () => {
      await rm(root, { recursive: true, force: true });
      await assertNoProcessesMentioning(root);
    },
  };
});
