import { execFileSync } from "node:child_process";
import { chmodSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** The unprivileged user that agents (and the real Claude CLI) run as in tests; CI runs as root and creates it. */
export const AGENT_USER = "thopter";

function hasUser(name: string): boolean {
  try {
    execFileSync("id", ["-u", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * As root: create the `thopter` user and let it traverse to the checkout and list it (CI clones into a 0700 mktemp dir),
 * so it can run the pinned Claude CLI from node_modules. As anyone else: nothing; root-only tests skip and say so.
 */
export default function setup(): void {
  if (process.getuid?.() !== 0) return;
  if (!hasUser(AGENT_USER)) execFileSync("useradd", ["--create-home", "--shell", "/bin/bash", AGENT_USER]);
  const checkout = resolve(import.meta.dirname, "../..");
  for (let dir = checkout; dir !== "/"; dir = dirname(dir)) {
    // The checkout itself also readable: a test runs vitest as that user, which lists it for test files.
    const wanted = dir === checkout ? 0o005 : 0o001;
    const mode = statSync(dir).mode;
    if ((mode & wanted) !== wanted) chmodSync(dir, mode | wanted);
  }
}
