import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { renderPrompt, specBuilder, THOPTER_PATHS } from "@thopter/hub/scheduler/index";
import type { ThopterRecord, ThopterRequest } from "@thopter/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const CODER = "ghs_coderTokenThatMustStayRootOnly0123";
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "spec-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const record = {
  id: "abcd1234-1",
  repo: "acme/widgets",
  issueNumber: 12,
  issueTitle: "Widgets wobble",
  branch: "thopter/12--abcd1234-1",
  gc: "default",
  prompt: "default",
} as ThopterRecord;
const request = { command: { kind: "start", instructions: "look at the hinge" } } as ThopterRequest;
const tokens = { status: "thopter-status.abcd1234-1.S", broker: "thopter-broker.abcd1234-1.B" };

function build(thopterEnvFile = join(dir, "none.env"), promptsDir = resolve(import.meta.dirname, "../../../prompts")) {
  return specBuilder({
    collectorUrl: "http://10.0.0.2:8081",
    githubApiUrl: "https://api.github.com",
    promptsDir,
    thopterEnvFile,
    agentUser: { name: "Thopter Bot", email: "bot@example.com" },
    coderToken: (repo) => (repo === "acme/widgets" ? CODER : undefined),
    entrypoint: ["/usr/local/bin/thopter-boot"],
  });
}

const text = (b64: string) => Buffer.from(b64, "base64").toString("utf8");

describe("thopter spec", () => {
  it("delivers each secret as its own file: GitHub and broker tokens root-only, none of them in env", async () => {
    await writeFile(join(dir, "thopters.env"), "ANTHROPIC_API_KEY=sk-ant-test\nANTHROPIC_BASE_URL=http://model\n");
    const spec = await build(join(dir, "thopters.env"))({ record, request, tokens });
    const byPath = new Map(spec.files.map((f) => [f.path, f]));
    expect(byPath.get(THOPTER_PATHS.coderToken)).toMatchObject({ owner: "root", mode: 0o600 });
    expect(text(byPath.get(THOPTER_PATHS.coderToken)!.contentBase64)).toBe(CODER);
    expect(byPath.get(THOPTER_PATHS.reportToken)).toMatchObject({ owner: "root", mode: 0o600 });
    expect(text(byPath.get(THOPTER_PATHS.reportToken)!.contentBase64)).toBe(tokens.broker);
    expect(byPath.get(THOPTER_PATHS.statusToken)).toMatchObject({ owner: "thopter", mode: 0o600 });
    expect(text(byPath.get(THOPTER_PATHS.agentEnv)!.contentBase64)).toContain('ANTHROPIC_API_KEY="sk-ant-test"');

    const env = JSON.stringify(spec.env);
    for (const secret of [CODER, tokens.broker, tokens.status, "sk-ant-test"]) expect(env).not.toContain(secret);
    // The job description everyone may read names no secret either.
    const job = text(byPath.get(THOPTER_PATHS.config)!.contentBase64);
    for (const secret of [CODER, tokens.broker, tokens.status]) expect(job).not.toContain(secret);
    expect(JSON.parse(job)).toMatchObject({ workBranch: record.branch, collectorUrl: "http://10.0.0.2:8081" });
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
    await expect(build(undefined, dir)({ record, request, tokens })).rejects.toThrow(
      /cannot read prompt .*default\.md/,
    );
  });
});
