import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { verifyAccessToken } from "@thopter/agent/access/index";
import { ThopterJob } from "@thopter/agent/boot/job";
import type { ThopterRecord, ThopterRequest } from "@thopter/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AccessKeys, FLY_PLACEMENT, LOCAL_PLACEMENT } from "../src/access/index.js";
import { loadConfig } from "../src/config.js";
import { firewallEnv, renderPrompt, type SpecContext, specBuilder, THOPTER_PATHS } from "../src/scheduler/spec.js";
import { openStore, type Store } from "../src/store/index.js";

const CODER = "ghs_coderTokenThatMustStayRootOnly0123";
let dir: string;
let store: Store;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "spec-access-"));
  store = await openStore(`file:${join(dir, "state")}`);
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const record = {
  id: "abcd1234-1",
  repo: "acme/widgets",
  issueNumber: 12,
  issueTitle: "Widgets wobble",
  branch: "thopter/12--abcd1234-1",
  gc: "default",
  prompt: "default",
} as ThopterRecord;
const request = { command: { kind: "start", instructions: "" } } as ThopterRequest;
const tokens = { status: "thopter-status.abcd1234-1.S", broker: "thopter-broker.abcd1234-1.B" };

function build(keys?: AccessKeys, more: Partial<SpecContext> = {}) {
  return specBuilder({
    collectorUrl: "http://10.0.0.2:8081",
    githubApiUrl: "https://api.github.com",
    promptsDir: resolve(import.meta.dirname, "../../prompts"),
    thopterEnvFile: join(dir, "none.env"),
    agentUser: { name: "Thopter Bot", email: "bot@example.com" },
    coderToken: async ({ repo }) => (repo === "acme/widgets" ? CODER : undefined),
    entrypoint: ["/boot"],
    access: keys && { issue: (id) => keys.issue(id), allowedOrigins: ["https://hub.example.com"] },
    ...more,
  });
}

const text = (b64: string) => Buffer.from(b64, "base64").toString("utf8");
const jobOf = (spec: Awaited<ReturnType<ReturnType<typeof build>>>) =>
  ThopterJob.parse(JSON.parse(text(spec.files.find((f) => f.path === THOPTER_PATHS.config)!.contentBase64)));

describe("access keys in the spec", () => {
  it("delivers a per-thopter key root-only and tells the thopter where its servers listen", async () => {
    const keys = await AccessKeys.open(store, FLY_PLACEMENT);
    const spec = await build(keys)({ record, request, tokens });
    const keyFile = spec.files.find((f) => f.path === THOPTER_PATHS.accessKey);
    expect(keyFile).toMatchObject({ owner: "root", mode: 0o600 });
    const key = text(keyFile!.contentBase64);
    expect(Buffer.from(key, "base64url")).toHaveLength(32);
    expect(key).toBe(keys.get(record.id)?.key);
    expect(JSON.stringify(spec.env)).not.toContain(key);

    const jobText = text(spec.files.find((f) => f.path === THOPTER_PATHS.config)!.contentBase64);
    expect(jobText).not.toContain(key);
    // The thopter runtime's own schema accepts what the hub sends, unchanged.
    expect(ThopterJob.parse(JSON.parse(jobText)).access).toEqual({
      keyFile: THOPTER_PATHS.accessKey,
      host: "::",
      terminalPort: 7681,
      logPort: 7682,
      allowedOrigins: ["https://hub.example.com"],
    });
  });

  it("gives local thopters, which share a host, ports of their own, and a different key each", async () => {
    const keys = await AccessKeys.open(store, LOCAL_PLACEMENT);
    const a = await keys.issue("t-a");
    const b = await keys.issue("t-b");
    expect(a.host).toBe("127.0.0.1");
    expect(new Set([a.terminalPort, a.logPort, b.terminalPort, b.logPort]).size).toBe(4);
    expect(a.key).not.toBe(b.key);
  });

  it("keeps keys across a hub restart: tokens minted afterwards verify with the key the thopter holds", async () => {
    const first = await AccessKeys.open(store, FLY_PLACEMENT);
    const { key } = await first.issue(record.id);
    const reopened = await AccessKeys.open(store, FLY_PLACEMENT);
    const token = reopened.mint(record.id, "terminal");
    expect(verifyAccessToken(key, token!)).toMatchObject({ thopterId: record.id, scope: "terminal" });
    expect(reopened.mint("unknown-thopter", "log")).toBeUndefined();

    // Once the thopter is gone, a restarted hub forgets its key for good.
    await reopened.prune((id) => id !== record.id);
    expect(reopened.mint(record.id, "terminal")).toBeUndefined();
    expect((await AccessKeys.open(store, FLY_PLACEMENT)).get(record.id)).toBeUndefined();
  });
});

describe("job and environment", () => {
  it("names the repository's default branch, and boots without it when GitHub cannot say", async () => {
    const asked: string[] = [];
    const known = build(undefined, {
      defaultBranch: async (repo) => {
        asked.push(repo);
        return "trunk";
      },
    });
    expect(jobOf(await known({ record, request, tokens })).defaultBranch).toBe("trunk");
    const failing = build(undefined, {
      defaultBranch: () => Promise.reject(new Error("GitHub is down")),
    });
    expect(jobOf(await failing({ record, request, tokens })).defaultBranch).toBeUndefined();
    expect(asked).toEqual(["acme/widgets"]);
  });

  it("passes the hub's firewall settings to thopters, the opt-out only as exactly I_UNDERSTAND", async () => {
    const base = {
      GITHUB_INTEGRATION_JSON: JSON.stringify({
        repositories: { "acme/widgets": { issuesToken: "i", coderToken: "c" } },
        agentUser: { name: "Bot", email: "bot@example.com" },
      }),
    };
    const config = loadConfig({
      ...base,
      ALLOWED_DOMAINS: "pypi.org, 10.9.0.0/16",
      DANGEROUSLY_SKIP_FIREWALL: "I_UNDERSTAND",
    });
    const spec = await build(undefined, { thopterEnv: firewallEnv(config) })({ record, request, tokens });
    expect(spec.env).toMatchObject({
      ALLOWED_DOMAINS: "pypi.org, 10.9.0.0/16",
      DANGEROUSLY_SKIP_FIREWALL: "I_UNDERSTAND",
      THOPTER_ID: record.id,
    });
    expect(firewallEnv(loadConfig(base))).toEqual({});
    expect(() => loadConfig({ ...base, DANGEROUSLY_SKIP_FIREWALL: "yes" })).toThrow(
      /^DANGEROUSLY_SKIP_FIREWALL: is not I_UNDERSTAND; set it to I_UNDERSTAND/,
    );
  });
});

describe("thopter spec", () => {
  it("delivers each secret as its own file: GitHub and broker tokens root-only, none of them in env", async () => {
    await writeFile(join(dir, "thopters.env"), "ANTHROPIC_API_KEY=sk-ant-test\nANTHROPIC_BASE_URL=http://model\n");
    const spec = await build(undefined, { thopterEnvFile: join(dir, "thopters.env") })({ record, request, tokens });
    const byPath = new Map(spec.files.map((f) => [f.path, f]));
    expect(byPath.get(THOPTER_PATHS.coderToken)).toMatchObject({ owner: "root", mode: 0o600 });
    expect(text(byPath.get(THOPTER_PATHS.coderToken)!.contentBase64)).toBe(CODER);
    expect(byPath.get(THOPTER_PATHS.reportToken)).toMatchObject({ owner: "root", mode: 0o600 });
    expect(text(byPath.get(THOPTER_PATHS.reportToken)!.contentBase64)).toBe(tokens.broker);
    expect(byPath.get(THOPTER_PATHS.statusToken)).toMatchObject({ owner: "thopter", mode: 0o600 });
    // The model credential and endpoint go root-only to the model proxy; the agent's env file keeps neither.
    expect(byPath.get(THOPTER_PATHS.modelCredential)).toMatchObject({ owner: "root", mode: 0o600 });
    expect(JSON.parse(text(byPath.get(THOPTER_PATHS.modelCredential)!.contentBase64))).toEqual({
      kind: "apiKey",
      value: "sk-ant-test",
      baseUrl: "http://model",
    });
    expect(text(byPath.get(THOPTER_PATHS.agentEnv)!.contentBase64)).not.toMatch(/ANTHROPIC|sk-ant-test/);

    const env = JSON.stringify(spec.env);
    for (const secret of [CODER, tokens.broker, tokens.status, "sk-ant-test"]) expect(env).not.toContain(secret);
    // The job description everyone may read names no secret either.
    const job = text(byPath.get(THOPTER_PATHS.config)!.contentBase64);
    for (const secret of [CODER, tokens.broker, tokens.status, "sk-ant-test"]) expect(job).not.toContain(secret);
    expect(JSON.parse(job)).toMatchObject({ workBranch: record.branch, collectorUrl: "http://10.0.0.2:8081" });
  });

  it("lists every secret the thopter holds, root-only, for the broker: marked .env.thopters values and the profile's", async () => {
    await writeFile(
      join(dir, "thopters.env"),
      "ANTHROPIC_BASE_URL=http://model\nDB_PASSWORD=correct-horse-battery\n# secret\nINTERNAL_URL=http://u:p@x\n",
    );
    const profileEnv = () => ({ CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-profile-token" });
    const spec = await build(undefined, { thopterEnvFile: join(dir, "thopters.env"), profileEnv })({
      record,
      request,
      tokens,
    });
    const file = spec.files.find((f) => f.path === THOPTER_PATHS.secrets);
    expect(file).toMatchObject({ owner: "root", mode: 0o600 });
    expect(JSON.parse(text(file!.contentBase64)).sort()).toEqual([
      "correct-horse-battery",
      "http://u:p@x",
      "sk-ant-oat01-profile-token",
    ]);
    expect(jobOf(spec).files.secrets).toBe(THOPTER_PATHS.secrets);
  });

  it("gives the model proxy the budget and prices; a profile home's login file becomes its credential, never a file", async () => {
    const login = JSON.stringify({ claudeAiOauth: { accessToken: "sk-ant-oat01-login", refreshToken: "r" } });
    const home = [
      { path: ".claude/.credentials.json", content: Buffer.from(login), mode: 0o600 },
      { path: ".claude/settings.json", content: Buffer.from("{}"), mode: 0o644 },
    ];
    const prices = { models: [{ match: "claude", input: 1, output: 2, cacheRead: 0, cacheWrite: 0 }] };
    const spec = await build(undefined, { profileHome: async () => home, model: { maxCostUsd: 12.5, prices } })({
      record,
      request,
      tokens,
    });
    expect(jobOf(spec).model).toEqual({ maxCostUsd: 12.5, prices });
    const paths = spec.files.map((f) => f.path);
    expect(paths).toContain(`${THOPTER_PATHS.profileHome}/.claude/settings.json`);
    expect(paths).not.toContain(`${THOPTER_PATHS.profileHome}/.claude/.credentials.json`);
    const credential = spec.files.find((f) => f.path === THOPTER_PATHS.modelCredential)!;
    expect(credential).toMatchObject({ owner: "root", mode: 0o600 });
    expect(JSON.parse(text(credential.contentBase64))).toEqual({ kind: "oauthToken", value: "sk-ant-oat01-login" });
    // Root-only files hold it (the proxy's credential, the broker's list of secrets); nothing else does.
    const rootOnly: string[] = [THOPTER_PATHS.modelCredential, THOPTER_PATHS.secrets];
    for (const f of spec.files.filter((f) => !rootOnly.includes(f.path)))
      expect(text(f.contentBase64)).not.toContain("login");
  });

  it("renders the chosen prompt with the issue's values", async () => {
    const spec = await build()({ record, request, tokens });
    const prompt = text(spec.files.find((f) => f.path === THOPTER_PATHS.prompt)!.contentBase64);
    expect(prompt).toContain(record.branch);
    expect(prompt).not.toMatch(/\{\{(repository|workBranch|issueNumber|issueTitle|instructions)\}\}/);
    expect(renderPrompt("{{repoName}} #{{issueNumber}} {{typo}}", { repoName: "widgets", issueNumber: "3" })).toBe(
      "widgets #3 {{typo}}",
    );
  });

  it("refuses, naming what to fix: a repository without a coder token, a missing prompt", async () => {
    await expect(build()({ record: { ...record, repo: "acme/other" }, request, tokens })).rejects.toThrow(
      /GITHUB_INTEGRATION_JSON has no coderToken for acme\/other/,
    );
    await expect(build(undefined, { promptsDir: dir })({ record, request, tokens })).rejects.toThrow(
      /cannot read prompt .*default\.md/,
    );
  });
});
