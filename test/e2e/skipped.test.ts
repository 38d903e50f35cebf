import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { AGENT_USER } from "../demo/world.js";
import { asRoot } from "./harness.js";

const ROOT = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

describe("the test run as a user who is not root", () => {
  it("ends with one line naming the suites it skipped and why", async () => {
    // As root (CI): as the unprivileged `thopter` user; as anyone else: as you. The config is loaded in place
    // (--configLoader runner) because that user may not write the checkout's node_modules.
    const vitest = [resolve(ROOT, "node_modules/.bin/vitest"), "run", "--configLoader", "runner"];
    const files = ["test/integration/broker/issue.test.ts", "test/e2e/demo-system.test.ts"];
    const command = asRoot ? ["runuser", "-u", AGENT_USER, "--", ...vitest] : vitest;
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/tmp", LANG: "C.UTF-8", NO_COLOR: "1" };
    const { stdout } = await run(command[0]!, [...command.slice(1), ...files], { cwd: ROOT, env });
    const lines = stdout.split("\n").filter((line) => line.startsWith("Skipped "));
    expect(lines).toEqual([
      "Skipped 1 suite(s) in 1 file(s) because they need root (real unprivileged users, nftables, network namespaces): run 'sudo pnpm test' or .ci/run to include them: test/integration/broker/issue.test.ts",
    ]);
  }, 120_000);
});
