import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expiryWarnings, type ProfileInfo } from "@thopter/protocol";
import { parse as parseDotenv } from "dotenv";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../src/cli/run.js";
import { redactBody } from "../src/ops/dry-run.js";
import { checkThopterEnv } from "../src/ops/env-thopters.js";
import { hubEnvFile } from "../src/ops/hub-config.js";
import { loadSettings, repositories } from "../src/ops/settings.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fly-cli-unit-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("CLI settings", () => {
  it("reads .env under the environment, which wins", async () => {
    await writeFile(join(dir, ".env"), "APP_NAME=from-file\nREGION=ord\n");
    const settings = loadSettings(dir, { APP_NAME: "from-env" });
    expect(settings.APP_NAME).toBe("from-env");
    expect(settings.REGION).toBe("ord");
    expect(settings.FLY_API_URL).toBe("https://api.machines.dev");
  });

  it("names the bad variable in one line with what to do", () => {
    expect(() => loadSettings(dir, { REGION: "Chicago" })).toThrow(
      /^REGION: is not a Fly region code such as iad; set it to/,
    );
    expect(() => loadSettings(dir, { FLY_API_URL: "ftp://x" })).toThrow(/^FLY_API_URL: is not an http\(s\) URL/);
    expect(() => loadSettings(dir, { APP_NAME: "My App" })).toThrow(/^APP_NAME: is not a Fly app name/);
    const broken = loadSettings(dir, { GITHUB_INTEGRATION_JSON: '{"repositories":{"nope":{}}}' });
    expect(() => repositories(broken)).toThrow(/^GITHUB_INTEGRATION_JSON: repositories.nope must be owner\/name/);
    const noToken = loadSettings(dir, { GITHUB_INTEGRATION_JSON: '{"repositories":{"a/b":{"issuesToken":"i"}}}' });
    expect(() => repositories(noToken)).toThrow(/^GITHUB_INTEGRATION_JSON: repositories.a\/b.coderToken is missing; /);
    expect(() => loadSettings(dir, { GITHUB_INTEGRATION_JSON: "{oops" })).toThrow(
      /^GITHUB_INTEGRATION_JSON: is not valid JSON; set it to/,
    );
  });

  it("prints help, and one line for an unknown command or flag", async () => {
    const lines: string[] = [];
    const say = (line: string) => lines.push(line);
    expect(await runCli(["--help"], { cwd: dir, env: {}, say })).toBe(0);
    expect(lines[0]).toMatch(/^Usage: pnpm fly/);
    lines.length = 0;
    expect(await runCli(["launch"], { cwd: dir, env: {}, say })).toBe(2);
    expect(lines).toEqual(['unknown command "launch"; see `pnpm fly --help`']);
    lines.length = 0;
    expect(await runCli(["status", "--force"], { cwd: dir, env: {}, say })).toBe(2);
    expect(lines[0]).toMatch(/Unknown option '--force'.*pnpm fly --help/);
    lines.length = 0;
    expect(await runCli(["status", "now"], { cwd: dir, env: {}, say })).toBe(2);
    expect(lines).toEqual(['status: unexpected argument "now"; see `pnpm fly --help`']);
  });
});

describe(".env.thopters checks", () => {
  it("accepts KEY=value lines, comments and blank lines", () => {
    expect(
      checkThopterEnv("# c\n\nANTHROPIC_API_KEY=sk-ant-api03-aaaaaaaaaaaaaaaaaaaaaaaa\nURL='https://x?a=b'\n"),
    ).toEqual([]);
  });

  it("refuses commands, production names and credentials an agent must not hold, without echoing values", () => {
    const problems = checkThopterEnv(
      [
        "rm -rf /",
        "export A=1",
        "B=$(curl evil)",
        "PROD_DB_URL=postgres://x",
        "FLY=fm2_abcdefghijklmnopqrstuvwxyz0123",
        "KEY=-----BEGIN OPENSSH PRIVATE KEY-----",
        "GH=github_pat_abcdefghijklmnopqrstuvwxyz",
      ].join("\n"),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^line 1: not a KEY=value line/),
      expect.stringMatching(/^line 2: not a KEY=value line/),
      expect.stringMatching(/^line 3: B looks like a shell command/),
      expect.stringMatching(/^line 4: PROD_DB_URL names a production setting/),
      expect.stringMatching(/^line 5: FLY holds a Fly API token/),
      expect.stringMatching(/^line 6: KEY holds a private key/),
      expect.stringMatching(/^line 7: GH holds a GitHub token/),
    ]);
    expect(problems.join("\n")).not.toMatch(/abcdefghij|curl/);
  });
});

describe("profile expiry", () => {
  const now = new Date("2026-06-01T00:00:00Z");
  const profile = (name: string, expiresAt?: string, kind: ProfileInfo["kind"] = "oauth-token"): ProfileInfo => ({
    name,
    kind,
    createdAt: "2025-06-01T00:00:00Z",
    ...(expiresAt ? { expiresAt } : {}),
  });

  it("warns within the window, soonest first, and says how to renew", () => {
    const warnings = expiryWarnings(
      [
        profile("far", "2026-12-01T00:00:00Z"),
        profile("soon", "2026-06-15T12:00:00Z"),
        profile("gone", "2026-05-30T00:00:00Z", "api-key"),
        profile("never"),
        profile("today", "2026-06-01T20:00:00Z", "golden-claude"),
      ],
      now,
    );
    expect(warnings.map((w) => [w.name, w.daysLeft])).toEqual([
      ["gone", -2],
      ["today", 0],
      ["soon", 14],
    ]);
    expect(warnings[0]?.message).toBe(
      "profile gone: credential expired on 2026-05-30; create a new key and run `pnpm fly profile add gone --api-key-file FILE`",
    );
    expect(warnings[1]?.message).toMatch(/expires today; log in again on gc-today/);
    expect(warnings[2]?.message).toMatch(/expires in 14 days \(2026-06-15\); run `claude setup-token`/);
    expect(expiryWarnings([profile("soon", "2026-06-15T12:00:00Z")], now, 7)).toEqual([]);
  });
});

describe("what leaves the machine", () => {
  it("a dry-run body shows file sizes and env names, not contents", () => {
    const body = {
      name: "hub",
      config: {
        env: { SECRET: "s3cret" },
        files: [{ guest_path: "/app/.env", raw_value: Buffer.from("TOKEN=abc").toString("base64"), mode: 384 }],
      },
    };
    expect(JSON.stringify(redactBody(body))).toBe(
      '{"name":"hub","config":{"env":{"SECRET":"…"},"files":[{"guest_path":"/app/.env","raw_value":"<9 bytes>","mode":384}]}}',
    );
  });

  it("the hub's .env reads back to the same values, with Fly's store, provider and address", () => {
    const integration = '{"repositories":{"a/b":{"issuesToken":"i","coderToken":"c"}},"note":"it\\"s"}';
    const settings = loadSettings(dir, {
      APP_NAME: "swarm",
      GITHUB_INTEGRATION_JSON: integration,
      MAX_THOPTERS: "3",
      UNRELATED: "x",
    });
    const parsed = parseDotenv(hubEnvFile(settings, { redisPassword: "p@ss/word", goldenClaudes: ["default", "x"] }));
    const quoted = loadSettings(dir, { APP_NAME: "swarm", DASHBOARD_TOKEN: "it's" });
    expect(() => hubEnvFile(quoted, { redisPassword: "p", goldenClaudes: [] })).toThrow(
      /^DASHBOARD_TOKEN: contains a line break or a single quote/,
    );
    expect(parsed).toMatchObject({
      GITHUB_INTEGRATION_JSON: integration,
      MAX_THOPTERS: "3",
      PROVIDER: "fly",
      HUB_HOST: "::",
      FLY_API_URL: "http://_api.internal:4280",
      STORE_URL: "redis://:p%40ss%2Fword@metadata.role.kv._metadata.swarm.internal:6379",
      GOLDEN_CLAUDES: "default,x",
      HUB_PUBLIC_URL: "http://hub.role.kv._metadata.swarm.internal:8080",
    });
    expect(parsed.UNRELATED).toBeUndefined();
  });
});
