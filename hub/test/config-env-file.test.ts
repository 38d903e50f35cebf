import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { loadConfigWithEnvFile } from "../src/config.js";
import { BASE, INTEGRATION, tempDir } from "./config-fixtures.js";

describe("loadConfigWithEnvFile", () => {
  it("reads .env from the folder, lets the real environment win, and leaves process.env alone", () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, ".env"),
      `GITHUB_INTEGRATION_JSON='${BASE.GITHUB_INTEGRATION_JSON}'\nHUB_PORT=9100\nMAX_THOPTERS=3\n`,
    );
    const config = loadConfigWithEnvFile(dir, { MAX_THOPTERS: "5" });
    expect(config.integration).toEqual(INTEGRATION);
    expect(config.HUB_PORT).toBe(9100);
    expect(config.MAX_THOPTERS).toBe(5);
    expect(process.env.HUB_PORT).toBeUndefined();
  });

  it("names .env when it cannot be read", () => {
    const dir = tempDir();
    mkdirSync(join(dir, ".env"));
    expect(() => loadConfigWithEnvFile(dir, BASE)).toThrow(
      /^\.env: cannot read .*\.env \(EISDIR\); fix it or remove it$/,
    );
  });

  it("works without a .env file", () => {
    expect(loadConfigWithEnvFile(tempDir(), BASE).HUB_PORT).toBe(8080);
  });
});

describe("a hub main using loadConfig", () => {
  it("prints one line on stderr and exits 1", () => {
    const dir = tempDir();
    const configModule = pathToFileURL(resolve(import.meta.dirname, "../src/config.ts")).href;
    const main = join(dir, "main.ts");
    writeFileSync(
      main,
      `import { loadConfigWithEnvFile } from ${JSON.stringify(configModule)};
try { loadConfigWithEnvFile(); console.log("started"); } catch (err) { console.error((err as Error).message); process.exit(1); }\n`,
    );
    writeFileSync(join(dir, ".env"), "POLL_INTERVAL_MS=often\n");
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    const run = spawnSync(process.execPath, ["--conditions=thopter-source", "--import", tsx, main], {
      cwd: dir,
      env: { PATH: process.env.PATH, GITHUB_INTEGRATION_JSON: BASE.GITHUB_INTEGRATION_JSON },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.stdout).toBe("");
    expect(run.stderr.trimEnd().split("\n")).toEqual([
      'POLL_INTERVAL_MS: "often" is not a whole number; set it to the poll period in milliseconds (10 to 3600000; default 5000)',
    ]);
    expect(run.status).toBe(1);
  });
});
