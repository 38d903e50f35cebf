import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { checkGithubApp } from "@thopter/fly/ops/github-app-checks";
import { hubEnvFile } from "@thopter/fly/ops/hub-config";
import { loadSettings } from "@thopter/fly/ops/settings";
import { loadConfig } from "@thopter/hub";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GithubPeer, startGithubPeer } from "../../peers/github/index.js";

/** `pnpm fly preflight`'s GitHub App checks against the GitHub peer, and the App key's way to the hub machine. */

const FULL = { contents: "write", pull_requests: "write", issues: "write", checks: "read", metadata: "read" } as const;
let peer: GithubPeer;
let dir: string;

beforeEach(async () => {
  peer = await startGithubPeer();
  for (const [i, repo] of ["acme/widgets", "acme/gears", "acme/bare"].entries()) {
    await peer.addRepo(repo, { issuesToken: `issues-tok-${i}`, coderToken: `coder-tok-${i}`, bot: { login: "b" } });
  }
  dir = await mkdtemp(join(tmpdir(), "fly-app-"));
});

afterEach(async () => {
  peer.assertClean();
  await peer.close();
  await rm(dir, { recursive: true, force: true });
});

describe("preflight: the GitHub App", () => {
  it("passes an App installed with every permission; names a missing permission and a missing installation", async () => {
    const app = peer.apps.create("acme-thopters", "acme");
    peer.apps.install(app.appId, ["acme/widgets"], FULL);
    const other = peer.apps.create("acme-other", "acme");
    const { checks: _c, ...noChecks } = FULL;
    peer.apps.install(app.appId, ["acme/gears"], noChecks);
    peer.apps.install(other.appId, ["acme/bare"], FULL);
    const checks = await checkGithubApp(peer.url, String(app.appId), app.privateKey, [
      "acme/widgets",
      "acme/gears",
      "acme/bare",
    ]);
    expect(checks).toEqual([
      { level: "ok", message: "GitHub App acme-thopters: key loads and GitHub accepts its JWT" },
      { level: "ok", message: "GitHub App on acme/widgets: installed with every permission thopters need" },
      {
        level: "fail",
        message:
          "GitHub App on acme/gears: lacks checks: read; add them in the App's settings (Permissions) and accept them on the installation",
      },
      {
        level: "fail",
        message: "GitHub App is not installed on acme/bare: install it there (the App's page → Install App)",
      },
    ]);
  });

  it("a key of another App, or no key at all: one failed line saying what to check", async () => {
    const app = peer.apps.create("acme-thopters", "acme");
    const other = peer.apps.create("acme-other", "acme");
    const wrong = await checkGithubApp(peer.url, String(app.appId), other.privateKey, []);
    expect(wrong).toHaveLength(1);
    expect(wrong[0]!.message).toMatch(
      /^GitHub App \d+: GitHub refused its JWT .*check GITHUB_APP_ID belongs to this key$/,
    );
    const broken = await checkGithubApp(peer.url, String(app.appId), "-----BEGIN RSA PRIVATE KEY-----\nnope\n", []);
    expect(broken[0]).toMatchObject({ level: "fail" });
    expect(broken[0]!.message).toMatch(/could not sign in .*check the key is the App's \.pem file$/);
  });

  it("the hub machine's .env carries the key itself on one line, and the hub reads it back", async () => {
    const app = peer.apps.create("acme-thopters", "acme");
    await writeFile(join(dir, "app.pem"), app.privateKey, { mode: 0o600 });
    const integration = JSON.stringify({
      repositories: { "acme/widgets": {} },
      agentUser: { name: "acme-thopters[bot]", email: "1+acme-thopters[bot]@users.noreply.github.com" },
    });
    const settings = loadSettings(dir, {
      APP_NAME: "swarm",
      GITHUB_INTEGRATION_JSON: integration,
      GITHUB_APP_ID: String(app.appId),
      GITHUB_APP_PRIVATE_KEY_FILE: "app.pem",
    });
    const env = parseEnv(hubEnvFile(settings, { redisPassword: "p", goldenClaudes: [] }));
    expect(env.GITHUB_APP_PRIVATE_KEY_FILE).toBeUndefined();
    const config = loadConfig({ ...(env as Record<string, string>), STORE_URL: "file:/tmp/x", PROVIDER: "local" });
    expect(config.githubApp).toEqual({ appId: String(app.appId), privateKey: app.privateKey });
  });
});
