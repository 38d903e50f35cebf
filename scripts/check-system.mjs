// Before `pnpm test` / `pnpm demo`: name the one missing system program instead of failing deep inside a test.
import { spawnSync } from "node:child_process";

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
for (const [bin, pkg] of NEEDS[what] ?? []) {
  const found = spawnSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" }).status === 0;
  if (!found) {
    console.error(
      `Missing system program '${bin}': install it (Debian/Ubuntu: sudo apt-get install ${pkg}) and run 'pnpm ${what}' again.`,
    );
    process.exit(1);
  }
}
