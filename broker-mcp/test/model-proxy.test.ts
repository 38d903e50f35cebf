import { execFile } from "node:child_process";
import { chownSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { loadModelProxyConfig } from "../src/model-proxy/config.js";
import { UsageMeter } from "../src/model-proxy/usage-meter.js";

const IS_ROOT = process.getuid?.() === 0;
const run = promisify(execFile);

describe("the model proxy's usage meter on a JSON answer", () => {
  it("reads model and usage from the body, however it is cut, and nothing from a body that is not a message", () => {
    const body = Buffer.from(
      JSON.stringify({
        model: "claude-sonnet-4-5",
        content: [{ type: "text", text: "héllo" }],
        usage: { input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 2, cache_creation_input_tokens: 1 },
      }),
    );
    const meter = new UsageMeter(false);
    const cut = body.indexOf("é") + 1;
    meter.push(body.subarray(0, cut));
    meter.push(body.subarray(cut));
    expect(meter.result()).toEqual({
      model: "claude-sonnet-4-5",
      counts: { input: 10, output: 3, cacheRead: 2, cacheWrite: 1 },
    });
    const junk = new UsageMeter(false);
    junk.push(Buffer.from('{"type":"error","error":{"type":"overloaded_error"}}'));
    expect(junk.result()).toBeUndefined();
  });
});

describe.skipIf(!IS_ROOT)("the model proxy's config (root only: files owned by root and by thopter)", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function files(patch: Record<string, unknown> = {}): { config: string; credential: string } {
    dir = mkdtempSync(join(tmpdir(), "model-proxy-config-"));
    const credential = join(dir, "credential.json");
    const config = join(dir, "model-proxy.json");
    writeFileSync(credential, JSON.stringify({ kind: "apiKey", value: "sk-ant-api03-real" }), { mode: 0o600 });
    writeFileSync(join(dir, "report-token"), "r\n", { mode: 0o600 });
    const body = {
      agentUser: "thopter",
      credentialFile: credential,
      collectorUrl: "http://127.0.0.1:9",
      reportTokenFile: join(dir, "report-token"),
      stateDir: join(dir, "state"),
      placeholder: "p".repeat(40),
      ...patch,
    };
    writeFileSync(config, JSON.stringify(body), { mode: 0o600 });
    return { config, credential };
  }

  it("refuses a credential file the agent could have planted or can read: a link, another owner, a loose mode", () => {
    const { config, credential } = files();
    expect(loadModelProxyConfig(config).credential).toEqual({ kind: "apiKey", value: "sk-ant-api03-real" });
    // The agent points the credential file at a file of its own choosing.
    rmSync(credential);
    const planted = join(dir, "planted.json");
    writeFileSync(planted, JSON.stringify({ kind: "apiKey", value: "attacker" }), { mode: 0o600 });
    symlinkSync(planted, credential);
    expect(() => loadModelProxyConfig(config)).toThrow(
      `model proxy config: credentialFile: ${credential} must be a regular file, not a link`,
    );
    rmSync(credential);
    writeFileSync(credential, JSON.stringify({ kind: "apiKey", value: "x" }), { mode: 0o644 });
    expect(() => loadModelProxyConfig(config)).toThrow(/credentialFile: .* mode 0600/);
    rmSync(credential);
    writeFileSync(credential, JSON.stringify({ kind: "apiKey", value: "x" }), { mode: 0o600 });
    chownSync(credential, 65_534, 65_534); // nobody's: someone else chose it
    expect(() => loadModelProxyConfig(config)).toThrow(/credentialFile: .* must be owned by this process's user/);
    rmSync(credential);
    writeFileSync(credential, "not json", { mode: 0o600 });
    expect(() => loadModelProxyConfig(config)).toThrow(/^model proxy config: credentialFile: .* is not valid JSON/);
    rmSync(credential);
    writeFileSync(credential, JSON.stringify({ kind: "password", value: "x" }), { mode: 0o600 });
    expect(() => loadModelProxyConfig(config)).toThrow(/^model proxy config: credentialFile\.kind: /);
  });

  it("names a bad config field in one line", () => {
    const { config } = files({ maxCostUsd: -1 });
    expect(() => loadModelProxyConfig(config)).toThrow(/^model proxy config: \(file\)\.maxCostUsd: /);
  });

  it("with isolation off runs as the agent's own user and says the credential is readable", async () => {
    const { config, credential } = files({ isolation: "off" });
    const id = async (flag: string) => Number((await run("id", [flag, "thopter"])).stdout);
    const user = { uid: await id("-u"), gid: await id("-g") };
    for (const f of [dir, config, credential, join(dir, "report-token")]) chownSync(f, user.uid, user.gid);
    const main = resolve(import.meta.dirname, "../src/model-proxy/main.ts");
    const tsx = fileURLToPath(import.meta.resolve("tsx"));
    const child = execFile(process.execPath, ["--conditions=thopter-source", "--import", tsx, main, config], {
      ...user,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
      cwd: dir,
    });
    let output = "";
    try {
      await new Promise<void>((ready, fail) => {
        child.stdout!.on("data", (c: Buffer) => {
          output += c;
          if (output.includes('"ready":true')) ready();
        });
        child.once("exit", (code) => fail(new Error(`exited ${code}: ${output}`)));
      });
      expect(output).toMatch(/credential isolation is OFF: .*the agent can read the model credential/);
      expect(output).not.toContain("sk-ant-api03-real");
    } finally {
      child.kill("SIGTERM");
    }
  }, 60_000);
});
