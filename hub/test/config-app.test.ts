import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configSecrets, loadConfig } from "../src/config.js";
import { BASE, failure, INTEGRATION, tempDir } from "./config-fixtures.js";

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
