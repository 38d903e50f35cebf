// `pnpm demo` runs test/demo/main.ts (see package.json); this entry does the same for `node scripts/demo.mjs`.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const check = spawnSync(process.execPath, [join(root, "scripts/check-system.mjs"), "demo"], { stdio: "inherit" });
if (check.status !== 0) process.exit(check.status ?? 1);
const demo = spawnSync(
  process.execPath,
  ["--conditions=thopter-source", "--import", "tsx", join(root, "test/demo/main.ts")],
  { stdio: "inherit", cwd: root },
);
process.exit(demo.status ?? 1);
