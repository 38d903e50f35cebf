import { describe, expect, it } from "vitest";
import { configSecrets, loadConfig } from "../src/config.js";
import { BASE, failure, INTEGRATION } from "./config-fixtures.js";

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

  it("reads budgets in US dollars (unset: none) and the grace in minutes (default 5), naming a bad one", () => {
    const defaults = loadConfig(BASE);
    expect([defaults.MAX_COST_USD, defaults.MAX_DAILY_COST_USD, defaults.BUDGET_GRACE_MIN]).toEqual([
      undefined,
      undefined,
      5,
    ]);
    expect(loadConfig({ ...BASE, MAX_COST_USD: "2.5", MAX_DAILY_COST_USD: "40" })).toMatchObject({
      MAX_COST_USD: 2.5,
      MAX_DAILY_COST_USD: 40,
    });
    expect(failure({ ...BASE, MAX_COST_USD: "five" }).message).toBe(
      'MAX_COST_USD: "five" is not a number; set it to a number of US dollars greater than 0, e.g. 5, or leave it unset for no budget',
    );
    expect(failure({ ...BASE, MAX_DAILY_COST_USD: "0" }).message).toMatch(
      /^MAX_DAILY_COST_USD: must be greater than 0;/,
    );
    expect(failure({ ...BASE, BUDGET_GRACE_MIN: "-1" }).message).toMatch(/^BUDGET_GRACE_MIN: must be greater than 0;/);
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
    expect(failure({ ...BASE, PROVIDER: "kubernetes" }).message).toBe(
      'PROVIDER: must be "local", "fly" or "docker"; set it to local, fly or docker',
    );
    const fly = { ...BASE, PROVIDER: "fly", FLY_API_TOKEN: "fly-token", APP_NAME: "thopters" };
    expect(failure(fly).message).toMatch(/^THOPTER_IMAGE: is missing \(PROVIDER=fly\); set it to/);
    expect(loadConfig({ ...fly, THOPTER_IMAGE: "registry.fly.io/thopters:1" }).PROVIDER).toBe("fly");
  });

  it("takes the docker provider's settings with defaults, and names a bad one", () => {
    const docker = loadConfig({ ...BASE, PROVIDER: "docker" });
    expect(docker).toMatchObject({
      DOCKER_HOST: "unix:///var/run/docker.sock",
      DOCKER_NETWORK: "bridge",
      DOCKER_CPUS: 2,
      DOCKER_MEMORY_MB: 4096,
      DOCKER_PIDS_LIMIT: 4096,
    });
    expect(docker.COLLECTOR_HOST).toBeUndefined();
    expect(failure({ ...BASE, PROVIDER: "docker", DOCKER_HOST: "/var/run/docker.sock" }).message).toBe(
      "DOCKER_HOST: is not unix:///PATH or tcp://HOST:PORT; set it to unix:///var/run/docker.sock, Podman's socket (unix:///run/podman/podman.sock) or tcp://HOST:PORT",
    );
    expect(failure({ ...BASE, DOCKER_CPUS: "0" }).message).toMatch(/^DOCKER_CPUS: must be greater than 0; set it/);
    expect(failure({ ...BASE, DOCKER_MEMORY_MB: "64" }).message).toMatch(/^DOCKER_MEMORY_MB: must be at least 512;/);
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

  it("refuses the .env.example token placeholder and tokens an HTTP header cannot carry, naming where", () => {
    const withToken = (issuesToken: string) => ({
      GITHUB_INTEGRATION_JSON: JSON.stringify({
        ...INTEGRATION,
        repositories: { "acme/widgets": { issuesToken, coderToken: "coder-token-bbbb" } },
      }),
    });
    expect(failure(withToken("github_pat_…")).message).toMatch(
      /^GITHUB_INTEGRATION_JSON: repositories\["acme\/widgets"\]\.issuesToken is still the \.env\.example placeholder/,
    );
    for (const token of ["tok\nen-aaaa", "tok\ten-aaaa", "tokén-aaaa", "token…aaaa", "tok en-aaaa", "token-\u0000aa"]) {
      const err = failure(withToken(token));
      expect(err.variable).toBe("GITHUB_INTEGRATION_JSON");
      expect(err.message).toMatch(/issuesToken contains a character an HTTP header cannot carry/);
    }
    expect(loadConfig(withToken("ghp_Zz09-_.~!aaaa")).integration.repositories["acme/widgets"]?.issuesToken).toBe(
      "ghp_Zz09-_.~!aaaa",
    );
  });

  it("takes GITHUB_POLL_TIMEOUT_MS in milliseconds, 10 s by default", () => {
    expect(loadConfig(BASE).GITHUB_POLL_TIMEOUT_MS).toBe(10_000);
    expect(loadConfig({ ...BASE, GITHUB_POLL_TIMEOUT_MS: "2500" }).GITHUB_POLL_TIMEOUT_MS).toBe(2500);
    expect(failure({ ...BASE, GITHUB_POLL_TIMEOUT_MS: "50" }).message).toBe(
      "GITHUB_POLL_TIMEOUT_MS: must be at least 100; set it to milliseconds (100 to 600000; default 10000)",
    );
  });
});
