import { RequestError } from "@octokit/request-error";
import { redactSecrets, TOKEN_PATTERNS } from "@thopter/protocol";
import { describe, expect, it } from "vitest";
import { createLogger, type LoggerOptions } from "../src/log.js";

const ISSUES_TOKEN = "issues-secret-0123456789";
const CODER_TOKEN = "coder-secret-abcdefghij";
// Token shapes that nobody configured: scrubbed by pattern alone.
const SHAPED = {
  classic: `ghp_${"a1B2".repeat(9)}`,
  fineGrained: `github_pat_11ABCDEFG0${"x".repeat(12)}_${"Yz9".repeat(20)}`,
  oauth: `gho_${"Q".repeat(36)}`,
  server: `ghs_${"7".repeat(36)}`,
  anthropic: `sk-ant-api03-${"Zz_-".repeat(20)}AA`,
};

/** A logger whose output lines are collected as strings. */
function capture(options: Omit<LoggerOptions, "destination"> = {}) {
  const lines: string[] = [];
  const logger = createLogger({ ...options, destination: { write: (s: string) => void lines.push(s) } });
  return { logger, lines, text: () => lines.join("") };
}

function expectClean(text: string, secrets: string[]) {
  for (const s of secrets) expect(text).not.toContain(s);
  expect(text).toContain("[REDACTED]");
}

describe("createLogger", () => {
  it("scrubs configured secrets from the message and keeps the rest", () => {
    const { logger, text } = capture({ secrets: [ISSUES_TOKEN] });
    logger.info(`cloning with ${ISSUES_TOKEN} now`);
    expectClean(text(), [ISSUES_TOKEN]);
    expect(JSON.parse(text()).msg).toBe("cloning with [REDACTED] now");
  });

  it("scrubs secrets nested anywhere in logged objects", () => {
    const { logger, text } = capture({ secrets: [ISSUES_TOKEN, CODER_TOKEN] });
    logger.info({ repo: { name: "acme/w", auth: [`x-access-token:${CODER_TOKEN}`] }, env: { T: ISSUES_TOKEN } }, "hi");
    expectClean(text(), [ISSUES_TOKEN, CODER_TOKEN]);
    expect(JSON.parse(text()).repo.name).toBe("acme/w");
  });

  it("scrubs an Error whose message and stack carry the token", () => {
    const { logger, text } = capture({ secrets: [CODER_TOKEN] });
    const err = new Error(`git push https://x-access-token:${CODER_TOKEN}@github.com failed`);
    logger.error(err);
    logger.error({ err }, "push failed");
    logger.warn({ error: err }, "again");
    expectClean(text(), [CODER_TOKEN]);
    const first = JSON.parse(text().split("\n")[0]!);
    expect(first.err.stack).toContain("x-access-token:[REDACTED]@github.com");
  });

  it("redacts an Octokit-like request's authorization header even for an unknown token", () => {
    const { logger, text } = capture();
    const unknown = "opaque-value-not-configured-42";
    const request = {
      method: "GET",
      url: "/repos/a/b",
      headers: { authorization: `token ${unknown}`, accept: "json" },
    };
    logger.info({ request }, "request");
    const err = Object.assign(new Error("Not Found"), { status: 404, request });
    logger.error({ err }, "octokit failed");
    expectClean(text(), [unknown]);
    const [a, b] = text()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(a.request.headers).toEqual({ authorization: "[REDACTED]", accept: "json" });
    expect(b.err.request.headers.authorization).toBe("[REDACTED]");
  });

  it("scrubs a real Octokit RequestError carrying the token in its request and message", () => {
    const { logger, text } = capture({ secrets: [ISSUES_TOKEN] });
    const err = new RequestError(`Bad credentials for ${ISSUES_TOKEN}`, 401, {
      request: {
        method: "GET",
        url: "https://api.github.com/repos/a/b",
        headers: { authorization: `token ${ISSUES_TOKEN}` },
      },
      response: { status: 401, url: "https://api.github.com/repos/a/b", headers: {}, data: { message: ISSUES_TOKEN } },
    });
    logger.error({ err }, "GitHub refused");
    expectClean(text(), [ISSUES_TOKEN]);
    expect(JSON.parse(text()).err.status).toBe(401);
  });

  it("scrubs well-known token shapes nobody configured", () => {
    const { logger, text } = capture();
    for (const token of Object.values(SHAPED)) logger.info({ note: `see ${token}.` }, `token ${token}`);
    expectClean(text(), Object.values(SHAPED));
  });

  it("scrubs the password of a URL but keeps the URL readable", () => {
    const { logger, text } = capture();
    logger.info("push to https://x-access-token:s3cr3t-value@github.com/acme/w.git and redis://:pw9@meta:6379");
    expect(JSON.parse(text()).msg).toBe(
      "push to https://x-access-token:[REDACTED]@github.com/acme/w.git and redis://:[REDACTED]@meta:6379",
    );
  });

  it("scrubs a secret that JSON escapes (quotes, backslashes)", () => {
    const odd = 'pa"ss\\word-1234';
    const { logger, text } = capture({ secrets: [odd] });
    logger.info({ value: odd }, odd);
    expect(JSON.parse(text())).toMatchObject({ value: "[REDACTED]", msg: "[REDACTED]" });
  });

  it("scrubs secrets added to a Set after the logger was made", () => {
    const secrets = new Set<string>();
    const { logger, text } = capture({ secrets });
    secrets.add("minted-bearer-token-xyz");
    logger.info("collector token minted-bearer-token-xyz");
    expectClean(text(), ["minted-bearer-token-xyz"]);
  });

  it("scrubs lines from child loggers too", () => {
    const { logger, text } = capture({ secrets: [CODER_TOKEN] });
    logger.child({ thopter: "t1", token: CODER_TOKEN }).info({ auth: CODER_TOKEN }, `using ${CODER_TOKEN}`);
    expectClean(text(), [CODER_TOKEN]);
    expect(JSON.parse(text()).thopter).toBe("t1");
  });

  it("respects the level", () => {
    const { logger, lines } = capture({ level: "warn" });
    logger.info("quiet");
    logger.warn("loud");
    expect(lines).toHaveLength(1);
  });
});

describe("redactSecrets", () => {
  it("removes a longer secret whole when it contains a shorter one", () => {
    expect(redactSecrets("a=abcd1234 b=abcd", ["abcd", "abcd1234"])).toBe("a=[REDACTED] b=[REDACTED]");
  });

  it("leaves text alone when it holds no secret, and ignores values too short to mean anything", () => {
    expect(redactSecrets("nothing to see: ab", ["ab", "absent-secret"])).toBe("nothing to see: ab");
  });

  it("matches each documented token shape whole", () => {
    for (const token of Object.values(SHAPED)) {
      expect(TOKEN_PATTERNS.some(({ pattern }) => token.replace(pattern, "") === "")).toBe(true);
    }
  });
});
