import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfigFile, readSecretFile, readSecretsList } from "../src/config.js";

const valid = {
  repo: "acme/app",
  issueNumber: 7,
  workBranch: "thopter/7--abc",
  defaultBranch: "main",
  githubApiUrl: "https://api.github.com",
  collectorUrl: "http://10.0.0.2:8081",
  coderTokenFile: "/etc/thopter/coder-token",
  reportTokenFile: "/etc/thopter/report-token",
  agentUser: "thopter",
  workspace: "/home/thopter/work",
  mirror: "/var/lib/thopter/mirror.git",
  stateDir: "/var/lib/thopter/broker",
  mcpKey: "k".repeat(40),
};

describe("broker config", () => {
  it("accepts a complete file and fills in the limits", () => {
    const config = parseConfigFile(valid);
    expect(config.limits.maxFileBytes).toBe(100 * 1024 * 1024);
    expect(config.limits.rates.comments).toEqual({ max: 5, windowMs: 600_000 });
    expect(config.limits.rates.pushes).toEqual({ max: 10, windowMs: 300_000 });
    expect(config.port).toBe(0);
  });

  it.each([
    [{ workBranch: "main:refs/heads/main" }, /^broker config: workBranch: must be a plain branch name/],
    [{ workBranch: "--receive-pack=sh" }, /^broker config: workBranch: /],
    [{ workBranch: "thopter/../main" }, /^broker config: workBranch: is not a valid git branch name/],
    [{ repo: "acme" }, /^broker config: repo: must be owner\/name/],
    [{ collectorUrl: "file:///etc/passwd" }, /^broker config: collectorUrl: /],
    [{ mcpKey: "short" }, /^broker config: mcpKey: must be at least 32 characters/],
    [{ mirror: "relative/mirror" }, /^broker config: mirror: must be an absolute path/],
    [{ agentUser: "Robert'); DROP" }, /^broker config: agentUser: must be a Unix user name/],
    [{ limits: { rates: { pushes: { max: 0, windowMs: 1000 } } } }, /^broker config: limits\.rates\.pushes\.max: /],
    [
      { limits: { rates: { pushs: { max: 1, windowMs: 1000 } } } },
      /^broker config: limits\.rates: Unrecognized key: "pushs"/,
    ],
    [{ coderToken: "ghp_inline" }, /^broker config: \(file\): Unrecognized key: "coderToken"/],
  ])("names the bad field in one line: %j", (patch, message) => {
    expect(() => parseConfigFile({ ...valid, ...patch })).toThrow(message);
  });
});

describe("secret files", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a private file and refuses readable files and links", () => {
    dir = mkdtempSync(join(tmpdir(), "broker-secret-"));
    const file = join(dir, "token");
    writeFileSync(file, "ghp_secret\n", { mode: 0o600 });
    expect(readSecretFile(file, "coderTokenFile")).toBe("ghp_secret");
    chmodSync(file, 0o640);
    expect(() => readSecretFile(file, "coderTokenFile")).toThrow(/coderTokenFile: .* mode 0600/);
    chmodSync(file, 0o600);
    symlinkSync(file, join(dir, "link"));
    expect(() => readSecretFile(join(dir, "link"), "coderTokenFile")).toThrow(/must be a regular file, not a link/);
    expect(() => readSecretFile(join(dir, "missing"), "reportTokenFile")).toThrow(/reportTokenFile: .* does not exist/);
  });

  it("reads the list of held secrets from a private file: not one the agent owns, nor anything but strings", () => {
    dir = mkdtempSync(join(tmpdir(), "broker-secret-"));
    const file = join(dir, "thopter-secrets.json");
    writeFileSync(file, JSON.stringify(["model-credential-1234", "db-password-5678"]), { mode: 0o600 });
    expect(readSecretsList(file)).toEqual(["model-credential-1234", "db-password-5678"]);
    for (const bad of ["{}", '["ok-secret", 7]', '[""]', "not json"]) {
      writeFileSync(file, bad, { mode: 0o600 });
      expect(() => readSecretsList(file)).toThrow(/^broker config: secretsFile: .* must hold a JSON list of strings$/);
    }
    if (process.getuid?.() === 0) {
      // The agent could otherwise choose what is scrubbed (or empty the list): its own file is refused.
      const uid = Number(execFileSync("id", ["-u", "thopter"], { encoding: "utf8" }));
      chownSync(file, uid, uid);
      expect(() => readSecretsList(file)).toThrow(
        /secretsFile: .* must be owned by this process's user with mode 0600/,
      );
    }
  });
});
