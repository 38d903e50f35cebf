// A local provider in a root process that may not make mount namespaces (run under `setpriv --bounding-set
// -sys_admin`): prints, as one JSON line, the warnings it gives and whether a machine it starts shares this /tmp.
import { readlink } from "node:fs/promises";
import { LocalProvider } from "@thopter/hub/providers/local/local-provider";
import { readRecord } from "@thopter/hub/providers/local/machine-record";
import pino from "pino";

const [root, entrypoint] = process.argv.slice(2) as [string, string];
const logged: string[] = [];
const log = pino({ level: "warn" }, { write: (line: string) => logged.push(JSON.parse(line).msg) });
const provider = new LocalProvider({ root, log, stopGraceMs: 1_000 });
const owner = { thopterId: "no-ns-1", repo: "acme/widgets", issueNumber: 10 };
const ref = await provider.create(
  { thopterId: owner.thopterId, env: {}, files: [], entrypoint: [process.execPath, entrypoint] },
  owner,
);
const pid = (await readRecord(`${root}/${owner.thopterId}`))?.process?.pid;
const sameMounts = (await readlink(`/proc/${pid}/ns/mnt`)) === (await readlink("/proc/self/ns/mnt"));
await provider.destroy(ref);
console.log(JSON.stringify({ warnings: provider.warnings, logged, sameMounts }));
