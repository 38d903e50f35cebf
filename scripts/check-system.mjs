// Before `pnpm test` / `pnpm demo`: name everything missing, one line each, instead of failing deep inside a test.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const MIN_NODE = [20, 19];
const NEEDS = {
  test: [
    ["git", "git"],
    ["redis-server", "redis-server"],
    ["tmux", "tmux"],
    ["chromium", "chromium"],
  ],
  demo: [
    ["git", "git"],
    ["tmux", "tmux"],
  ],
};
const what = process.argv[2] ?? "test";
if (!(what in NEEDS)) {
  console.error(`check-system: unknown target '${what}': use one of ${Object.keys(NEEDS).join(", ")}`);
  process.exit(2);
}

const again = `and run 'pnpm ${what}' again.`;
const missing = [];
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
  missing.push(
    `Node.js ${process.versions.node} is too old: install Node.js >= ${MIN_NODE.join(".")} (https://nodejs.org) ${again}`,
  );
}
// A fresh clone before `pnpm install`: tsx (which runs the sources) is the first thing that would be missing.
if (!existsSync(new URL("../node_modules/tsx/package.json", import.meta.url))) {
  missing.push(
    `The project's dependencies are not installed (no node_modules): run 'pnpm install', then 'pnpm ${what}'.`,
  );
}
for (const [bin, pkg] of NEEDS[what]) {
  const found = spawnSync("sh", ["-c", 'command -v "$1"', "sh", bin], { stdio: "ignore" }).status === 0;
  if (!found)
    missing.push(`Missing system program '${bin}': install it (Debian/Ubuntu: sudo apt-get install ${pkg}) ${again}`);
}
if (missing.length > 0) {
  for (const line of missing) console.error(line);
  process.exit(1);
}
