import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";

const leftovers = new Set<string>();
process.on("exit", () => {
  for (const dir of leftovers) rmSync(dir, { recursive: true, force: true });
});

/**
 * A fresh empty directory under the system temp dir. Called inside a test, it is removed when the test
 * finishes; called elsewhere (a `beforeAll`, a helper), when the test process exits.
 */
export function tempDir(prefix = "thopter-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  } catch {
    leftovers.add(dir);
  }
  return dir;
}
