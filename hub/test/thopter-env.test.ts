import { describe, expect, it } from "vitest";
import { parseThopterEnv, secretValues } from "../src/scheduler/thopter-env.js";

describe(".env.thopters secret marking", () => {
  it("marks names that look secret, and lets a # secret / # public line right above a key decide instead", () => {
    const env = parseThopterEnv(
      [
        "ANTHROPIC_API_KEY=sk-ant-0123456789",
        "ANTHROPIC_BASE_URL=https://gateway.example.com",
        "DB_PASSWORD=correct-horse-battery",
        "# public",
        "SENTRY_DSN_KEY=public-dsn-key-value",
        "#  Secret ",
        "INTERNAL_URL=https://user:pw@internal.example.com",
        "# secret",
        "",
        "NOT_MARKED_BY_A_DISTANT_LINE=plain-value-here",
        "GH_AUTH_HEADER='Basic dXNlcjpwYXNz'",
      ].join("\n"),
    );
    expect(env.secretNames.sort()).toEqual(["ANTHROPIC_API_KEY", "DB_PASSWORD", "GH_AUTH_HEADER", "INTERNAL_URL"]);
    expect(env.values.ANTHROPIC_BASE_URL).toBe("https://gateway.example.com");
    expect(secretValues(env, { CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-profile-token" }).sort()).toEqual([
      "Basic dXNlcjpwYXNz",
      "correct-horse-battery",
      "https://user:pw@internal.example.com",
      "sk-ant-0123456789",
      "sk-ant-oat01-profile-token",
    ]);
  });

  it("refuses a secret shorter than 8 characters and a model credential marked public, naming the key, not the value", () => {
    expect(() => parseThopterEnv("API_TOKEN=1234567")).toThrow(
      /^THOPTER_ENV_FILE: API_TOKEN is secret but shorter than 8 characters.*put "# public" on the line above it$/,
    );
    expect(() => parseThopterEnv("# secret\nPIN=42")).toThrow(/^THOPTER_ENV_FILE: PIN is secret/);
    expect(() => parseThopterEnv("# public\nANTHROPIC_API_KEY=sk-ant-0123456789")).toThrow(
      /^THOPTER_ENV_FILE: ANTHROPIC_API_KEY is the model credential and is always secret/,
    );
    // Marked public, a short value is the team's choice.
    expect(parseThopterEnv("# public\nMAX_TOKENS=4096").secretNames).toEqual([]);
    try {
      parseThopterEnv("SESSION_SECRET=abc");
    } catch (err) {
      expect((err as Error).message).not.toContain("abc");
    }
  });
});
