import { execFile } from "node:child_process";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { assertNoProcessesMentioning } from "../../helpers/leftovers.js";
import { CODER_TOKEN, hubEnv, REPO } from "../hub/harness.js";

// Issue 12: configuration a hub cannot work with is refused at start, in one line naming the variable, what is wrong
// and what to do (exit 1), instead of failing later ("Cannot convert argument to a ByteString", "listen EADDRINUSE").
const ROOT = resolve(import.meta.dirname, "../../..");
const MAIN = join(ROOT, "hub/src/main.ts");
const TSX = fileURLToPath(import.meta.resolve("tsx"));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `pnpm start`'s command in `cwd`, with only `env` (and PATH, HOME); resolves when it exits (it must, by 60 s). */
function start(cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--conditions=thopter-source", "--import", TSX, MAIN],
      { cwd, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

/** Refused: exit 1 and exactly one line on stderr, which is returned. */
function refusal(run: Run): string {
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
  const lines = run.stderr.split("\n").filter((l) => l.trim() !== "");
  expect(lines, run.stderr).toHaveLength(1);
  return lines[0]!;
}

function integration(issuesToken: string): string {
  return JSON.stringify({
    repositories: { [REPO]: { issuesToken, coderToken: CODER_TOKEN } },
    agentUser: { name: "Thopter Bot", email: "bot@example.com" },
  });
}

let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "hub-refused-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  await assertNoProcessesMentioning(dir);
});

describe("configuration refused at start", () => {
  it("cp .env.example .env && pnpm start: one line naming GITHUB_INTEGRATION_JSON's placeholder", async () => {
    await copyFile(join(ROOT, ".env.example"), join(dir, ".env"));
    const line = refusal(await start(dir));
    expect(line).toMatch(
      /^GITHUB_INTEGRATION_JSON: repositories\["your-org\/your-repo"\].* \.env\.example placeholder/,
    );
  }, 90_000);

  it.each([
    ["a line break", "ghp_pastedWithABreak0123\n456789abcdefABCDEFab"],
    ["a non-ASCII character", "ghp_pastedWithAnEllipsis0123456789abcd…"],
    ["a non-ASCII letter", "ghp_pästedWithAnUmlaut0123456789abcdefAB"],
    ["a space", "ghp_pasted WithASpace0123456789abcdefABCD"],
  ])(
    "a token with %s: one line naming GITHUB_INTEGRATION_JSON and the repository, never the token",
    async (_what, token) => {
      const run = await start(dir, hubEnv("http://127.0.0.1:9", dir, { GITHUB_INTEGRATION_JSON: integration(token) }));
      const line = refusal(run);
      expect(line).toMatch(/^GITHUB_INTEGRATION_JSON: repositories\["acme\/widgets"\]\.issuesToken /);
      expect(line).toMatch(/contains a character an HTTP header cannot carry .*; set it to /);
      expect(run.stdout + run.stderr).not.toContain(token.slice(4, 20));
    },
    90_000,
  );

  describe("a port in use", () => {
    let busy: Server;
    let port = 0;
    beforeEach(async () => {
      busy = createServer();
      await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
      port = (busy.address() as { port: number }).port;
    });
    afterEach(async () => {
      await new Promise((r) => busy.close(r));
    });

    it.each(["HUB_PORT", "HUB_STATUS_PORT"])(
      "%s: one line naming it and what to do",
      async (variable) => {
        const line = refusal(await start(dir, hubEnv("http://127.0.0.1:9", dir, { [variable]: String(port) })));
        expect(line).toBe(
          `${variable}: port ${port} on 127.0.0.1 is in use by another process (another hub still running?); ` +
            `stop what holds it or set ${variable} to a free port`,
        );
      },
      90_000,
    );
  });
});
