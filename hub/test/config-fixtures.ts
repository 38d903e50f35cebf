import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, onTestFinished } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

export const INTEGRATION = {
  repositories: {
    "acme/widgets": { issuesToken: "issues-token-aaaa", coderToken: "coder-token-bbbb" },
    "acme/gears": { issuesToken: "issues-token-cccc", coderToken: "coder-token-dddd" },
  },
  agentUser: { name: "Thopter Bot", email: "bot@example.com" },
};
export const BASE = { GITHUB_INTEGRATION_JSON: JSON.stringify(INTEGRATION) };

/** The ConfigError `loadConfig` throws for `env`, checked to be one line. */
export function failure(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).not.toMatch(/[\r\n]/);
    return err as ConfigError;
  }
  throw new Error("loadConfig accepted the environment");
}

/** A directory removed when the test ends. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "thopter-config-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
