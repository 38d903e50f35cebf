import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { ConfigError, configSecrets, loadConfig, loadConfigWithEnvFile } from "../src/config.js";

const INTEGRATION = {
  repositories: {
    "acme/widgets": { issuesToken: "issues-token-aaaa", coderToken: "coder-token-bbbb" },
    "acme/gears": { issuesToken: "issues-token-cccc", coderToken: "coder-token-dddd" },
  },
  agentUser: { name: "Thopter Bot", email: "bot@example.com" },
};
const BASE = { GITHUB_INTEGRATION_JSON: JSON.stringify(INTEGRATION) };

/** The ConfigError `loadConfig` throws for `env`, checked to be one line. */
function failure(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).not.toMatch(/[\r\n]/);
    return err as ConfigError;
  }
  throw new Error("loadConfig accepted the environment");
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "thopter-config-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("loadConfig", () => {
  it("applies the defaults of docs/architecture.md#configuration", () => {
    const config = loadConfig(BASE);
    expect(config).toMatchObject({
      GITHUB_API_URL: "https://api.github.com",
      POLL_INTERVAL_MS: 5000,
      PROVIDER: "local",
      FLY_API_URL: "https://api.machines.dev",
      STORE_URL: "file:.thopter/state",
      HUB_HOST: "127.0.0.1",
      HUB_PORT: 8080,
      HUB_STATUS_PORT: 8081,
      HUB_PUBLIC_URL: "http://127.0.0.1:8080",
      MAX_THOPTERS: 10,
      MAX_CONCURRENT_PROVISIONS: 4,
      IDLE_TIMEOUT_MIN: 60,
      MAX_LIFETIME_MIN: 720,
      PROMPTS_DIR: "prompts",
      THOPTER_ENV_FILE: ".env.thopters",
      LOCAL_THOPTER_ROOT: ".thopter/machines",
      CLAUDE_BIN: "claude",
      GOLDEN_CLAUDES: ["default"],
    });
    expect(config.integration).toEqual(INTEGRATION);
    expect(config.GITHUB_WEBHOOK_SECRET).toBeUndefined();
    expect(config.DASHBOARD_TOKEN).toBeUndefined();
    expect(config.LOCAL_THOPTER_UID_RANGE).toEqual({ first: 61000, last: 61999 });
  });

  it("coerces numbers, lists and URLs, and treats empty values as unset", () => {
    const config = loadConfig({
      ...BASE,
      POLL_INTERVAL_MS: " 250 ",
      HUB_HOST: "::1",
      HUB_PORT: "0",
      HUB_STATUS_PORT: "0",
      IDLE_TIMEOUT_MIN: "0.5",
      GITHUB_API_URL: "http://127.0.0.1:3000/",
      GOLDEN_CLAUDES: "default, team ,default",
      DASHBOARD_TOKEN: "",
    });
    expect(config).toMatchObject({
      POLL_INTERVAL_MS: 250,
      HUB_PORT: 0,
      HUB_PUBLIC_URL: "http://[::1]:0",
      IDLE_TIMEOUT_MIN: 0.5,
      GITHUB_API_URL: "http://127.0.0.1:3000",
      GOLDEN_CLAUDES: ["default", "team"],
    });
    expect(config.DASHBOARD_TOKEN).toBeUndefined();
  });

  it("refuses malformed GITHUB_INTEGRATION_JSON without echoing it (it holds tokens)", () => {
    const err = failure({ GITHUB_INTEGRATION_JSON: '{"repositories": {"a/b": {"issuesToken": ghp_leak' });
    expect(err.variable).toBe("GITHUB_INTEGRATION_JSON");
    expect(err.message).toMatch(/^GITHUB_INTEGRATION_JSON: not valid JSON \(.+\); set it to \{"repositories"/);
    expect(err.message).not.toContain("ghp_leak");
  });

  it("names a missing required variable", () => {
    expect(failure({}).message).toMatch(/^GITHUB_INTEGRATION_JSON: is missing; set it to \{"repositories":/);
  });

  it("names the field inside GITHUB_INTEGRATION_JSON that is wrong", () => {
    const noCoder = { ...INTEGRATION, repositories: { "acme/w": { issuesToken: "x" } } };
    expect(failure({ GITHUB_INTEGRATION_JSON: JSON.stringify(noCoder) }).message).toMatch(
      /^GITHUB_INTEGRATION_JSON: repositories\["acme\/w"\]\.coderToken is missing \(omit both tokens when the App covers it\); set it to/,
    );
    const badEmail = { ...INTEGRATION, agentUser: { name: "b", email: "nope" } };
    expect(failure({ GITHUB_INTEGRATION_JSON: JSON.stringify(badEmail) }).message).toMatch(
      /^GITHUB_INTEGRATION_JSON: agentUser\.email is not an email address;/,
    );
    const appBot = {
      ...INTEGRATION,
      agentUser: { name: "app[bot]", email: "41898282+app[bot]@users.noreply.github.com" },
    };
    expect(loadConfig({ GITHUB_INTEGRATION_JSON: JSON.stringify(appBot) }).integration).toEqual(appBot);
    const badRepo = { ...INTEGRATION, repositories: { "not a repo": { issuesToken: "x", coderToken: "y" } } };
    expect(failure({ GITHUB_INTEGRATION_JSON: JSON.stringify(badRepo) }).message).toMatch(
      /^GITHUB_INTEGRATION_JSON: repositories.*must be owner\/name/,
    );
    const typo = { ...INTEGRATION, authorisedUsers: ["alice"] };
    expect(failure({ GITHUB_INTEGRATION_JSON: JSON.stringify(typo) }).message).toMatch(
      /^GITHUB_INTEGRATION_JSON: has unknown key authorisedUsers;/,
    );
    const none = { ...INTEGRATION, repositories: {} };
    expect(failure({ GITHUB_INTEGRATION_JSON: JSON.stringify(none) }).message).toMatch(
      /^GITHUB_INTEGRATION_JSON: repositories must name at least one repository;/,
    );
  });

  it("names a bad number and says what range is allowed", () => {
    expect(failure({ ...BASE, POLL_INTERVAL_MS: "soon" }).message).toBe(
      'POLL_INTERVAL_MS: "soon" is not a whole number; set it to the poll period in milliseconds (10 to 3600000; default 5000)',
    );
    expect(failure({ ...BASE, HUB_PORT: "70000" }).message).toMatch(
      /^HUB_PORT: must be at most 65535; set it to a TCP port/,
    );
    expect(failure({ ...BASE, MAX_THOPTERS: "0" }).message).toMatch(/^MAX_THOPTERS: must be at least 1;/);
    expect(failure({ ...BASE, MAX_LIFETIME_MIN: "-5" }).message).toMatch(/^MAX_LIFETIME_MIN: must be greater than 0;/);
    expect(failure({ ...BASE, HUB_PORT: "9000", HUB_STATUS_PORT: "9000" }).variable).toBe("HUB_STATUS_PORT");
  });

  it("reads LOCAL_THOPTER_UID_RANGE as FIRST-LAST (default 61000-61999) and names a bad one; LOCAL_THOPTER_USER is refused as gone", () => {
    expect(loadConfig(BASE).LOCAL_THOPTER_UID_RANGE).toEqual({ first: 61_000, last: 61_999 });
    expect(loadConfig({ ...BASE, LOCAL_THOPTER_UID_RANGE: " 62000 - 62009 " }).LOCAL_THOPTER_UID_RANGE).toEqual({
      first: 62000,
      last: 62009,
    });
    const fix = "set it to FIRST-LAST, uids free on this host for local thopters (default 61000-61999)";
    expect(failure({ ...BASE, LOCAL_THOPTER_UID_RANGE: "62000" }).message).toBe(
      `LOCAL_THOPTER_UID_RANGE: "62000" is not FIRST-LAST; ${fix}`,
    );
    expect(failure({ ...BASE, LOCAL_THOPTER_UID_RANGE: "62009-62000" }).message).toBe(
      `LOCAL_THOPTER_UID_RANGE: 62009 is above 62000; ${fix}`,
    );
    expect(failure({ ...BASE, LOCAL_THOPTER_UID_RANGE: "0-999" }).message).toBe(
      `LOCAL_THOPTER_UID_RANGE: 0-999 is not within 1000-65533; ${fix}`,
    );
    expect(failure({ ...BASE, LOCAL_THOPTER_USER: "thopter" }).message).toBe(
      "LOCAL_THOPTER_USER: is no longer used: each local thopter gets its own user; unset it (LOCAL_THOPTER_UID_RANGE sets which uids local thopters get)",
    );
  });

  it("names a bad URL", () => {
    expect(failure({ ...BASE, GITHUB_API_URL: "api.github.com" }).message).toBe(
      "GITHUB_API_URL: is not an http(s) URL; set it to the GitHub REST base URL, e.g. https://api.github.com",
    );
    expect(failure({ ...BASE, HUB_PUBLIC_URL: "ftp://hub" }).variable).toBe("HUB_PUBLIC_URL");
    expect(failure({ ...BASE, STORE_URL: "postgres://db" }).message).toBe(
      'STORE_URL: unsupported scheme "postgres:"; set it to file:PATH or redis://HOST:PORT',
    );
  });

  it("names an unknown PROVIDER and the Fly settings PROVIDER=fly needs", () => {
    expect(failure({ ...BASE, PROVIDER: "docker" }).message).toBe(
      'PROVIDER: must be "local" or "fly"; set it to local or fly',
    );
    const fly = { ...BASE, PROVIDER: "fly", FLY_API_TOKEN: "fly-token", APP_NAME: "thopters" };
    expect(failure(fly).message).toMatch(/^THOPTER_IMAGE: is missing \(PROVIDER=fly\); set it to/);
    expect(loadConfig({ ...fly, THOPTER_IMAGE: "registry.fly.io/thopters:1" }).PROVIDER).toBe("fly");
  });

  it("refuses a short DASHBOARD_TOKEN", () => {
    expect(failure({ ...BASE, DASHBOARD_TOKEN: "short" }).message).toMatch(
      /^DASHBOARD_TOKEN: is shorter than 16 characters; set it to a random string/,
    );
  });

  it("refuses golden-claude names that could walk a path", () => {
    expect(failure({ ...BASE, GOLDEN_CLAUDES: "default,../etc" }).message).toMatch(
      /^GOLDEN_CLAUDES: "\.\.\/etc" is not a valid name \(.*\); set it to comma-separated profile names/,
    );
    expect(failure({ ...BASE, GOLDEN_CLAUDES: " , " }).variable).toBe("GOLDEN_CLAUDES");
  });

  it("lists every secret value for the logger to scrub", () => {
    const config = loadConfig({
      ...BASE,
      GITHUB_WEBHOOK_SECRET: "hook-secret",
      DASHBOARD_TOKEN: "dash-token-0123456789",
      STORE_URL: "redis://:redis-pass@127.0.0.1:6379",
    });
    expect(configSecrets(config).sort()).toEqual(
      [
        "issues-token-aaaa",
        "coder-token-bbbb",
        "issues-token-cccc",
        "coder-token-dddd",
        "hook-secret",
        "dash-token-0123456789",
        "redis-pass",
      ].sort(),
    );
  });
});

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

describe("loadConfig: GitHub App", () => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const PEM = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const MIXED = {
    ...INTEGRATION,
    repositories: { "acme/widgets": {}, "acme/gears": INTEGRATION.repositories["acme/gears"] },
  };
  const keyFile = (text: string) => {
    const path = join(tempDir(), "app.pem");
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const withApp = (env: NodeJS.ProcessEnv) => ({ GITHUB_INTEGRATION_JSON: JSON.stringify(MIXED), ...env });

  it("loads the App from its key file; repositories may omit tokens, others keep their PATs", () => {
    const config = loadConfig(withApp({ GITHUB_APP_ID: "123456", GITHUB_APP_PRIVATE_KEY_FILE: keyFile(PEM) }));
    expect(config.githubApp).toEqual({ appId: "123456", privateKey: PEM });
    expect(config.integration.repositories["acme/widgets"]).toEqual({});
    expect(config.integration.repositories["acme/gears"]?.coderToken).toBe("coder-token-dddd");
    expect(configSecrets(config)).toContain(PEM);
  });

  it("takes the key inline, with line breaks written as \\n on one line", () => {
    const config = loadConfig(withApp({ GITHUB_APP_ID: "7", GITHUB_APP_PRIVATE_KEY: PEM.replace(/\n/g, "\\n") }));
    expect(config.githubApp?.privateKey).toBe(PEM);
    expect(configSecrets(config)).toContain(PEM);
  });

  it("without an App, PAT-only configurations are unchanged", () => {
    expect(loadConfig(BASE).githubApp).toBeUndefined();
  });

  it("names an unreadable key file, with the reason", () => {
    const missing = join(tempDir(), "nope.pem");
    const err = failure(withApp({ GITHUB_APP_ID: "7", GITHUB_APP_PRIVATE_KEY_FILE: missing }));
    expect(err.variable).toBe("GITHUB_APP_PRIVATE_KEY_FILE");
    expect(err.message).toBe(
      `GITHUB_APP_PRIVATE_KEY_FILE: cannot read ${missing} (ENOENT); set it to the .pem file generated under the App's Private keys (see docs/github-app.md)`,
    );
    const dir = tempDir();
    expect(failure(withApp({ GITHUB_APP_ID: "7", GITHUB_APP_PRIVATE_KEY_FILE: dir })).message).toContain("(EISDIR)");
  });

  it("names a malformed key without quoting it", () => {
    const broken = PEM.slice(0, 400);
    for (const env of [
      { GITHUB_APP_PRIVATE_KEY_FILE: keyFile(broken) },
      { GITHUB_APP_PRIVATE_KEY: broken },
      { GITHUB_APP_PRIVATE_KEY: "ghp_notakey_0123456789" },
    ]) {
      const err = failure(withApp({ GITHUB_APP_ID: "7", ...env }));
      expect(err.variable).toBe(Object.keys(env)[0]);
      expect(err.message).toContain("is not a PEM private key");
      expect(err.message).not.toContain(broken.split("\n")[1]);
      expect(err.message).not.toContain("ghp_notakey");
    }
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" });
    const err = failure(withApp({ GITHUB_APP_ID: "7", GITHUB_APP_PRIVATE_KEY: ec.toString() }));
    expect(err.message).toMatch(/^GITHUB_APP_PRIVATE_KEY: is a ec key, but GitHub App keys are RSA;/);
  });

  it("refuses half an App: ID without key, key without ID, a bad ID, two keys", () => {
    expect(failure(withApp({ GITHUB_APP_ID: "7" })).message).toMatch(
      /^GITHUB_APP_PRIVATE_KEY_FILE: is missing \(GITHUB_APP_ID is set\);/,
    );
    expect(failure(withApp({ GITHUB_APP_PRIVATE_KEY: PEM })).message).toMatch(/^GITHUB_APP_ID: is missing/);
    expect(failure(withApp({ GITHUB_APP_ID: "my-app", GITHUB_APP_PRIVATE_KEY: PEM })).message).toMatch(
      /^GITHUB_APP_ID: is not a GitHub App ID/,
    );
    const both = failure(
      withApp({ GITHUB_APP_ID: "7", GITHUB_APP_PRIVATE_KEY: PEM, GITHUB_APP_PRIVATE_KEY_FILE: "x" }),
    );
    expect(both.variable).toBe("GITHUB_APP_PRIVATE_KEY");
  });

  it("a repository without tokens needs the App", () => {
    expect(failure(withApp({})).message).toBe(
      'GITHUB_INTEGRATION_JSON: repositories["acme/widgets"] has no tokens and no GitHub App is configured; set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY_FILE, or give it issuesToken and coderToken',
    );
  });
});
