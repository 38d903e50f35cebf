import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  AccessDenied,
  type AccessPolicy,
  accessCookie,
  authorize,
  mintAccessToken,
  readAccessKey,
  verifyAccessToken,
} from "../src/access/index.js";

const KEY = "k".repeat(32);
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

const policy: AccessPolicy = {
  key: KEY,
  thopterId: "t-1",
  scopes: ["terminal", "terminal:ro"],
  cookieName: "thopter_terminal",
  allowedOrigins: ["https://hub.example.com/"],
};

function request(url: string, headers: Record<string, string> = {}, method = "GET"): IncomingMessage {
  return { url, method, headers: { host: "10.0.0.5:7681", ...headers }, socket: {} } as unknown as IncomingMessage;
}

function denied(fn: () => unknown): AccessDenied {
  try {
    fn();
  } catch (err) {
    if (err instanceof AccessDenied) return err;
    throw err;
  }
  throw new Error("expected AccessDenied");
}

describe("access tokens", () => {
  it("round-trips the claims a hub signs", () => {
    const claims = { thopterId: "t-1", scope: "log" as const, exp: inAnHour() };
    expect(verifyAccessToken(KEY, mintAccessToken(KEY, claims))).toEqual(claims);
  });

  it("refuses a token signed with another key, tampered with, expired or malformed, with 401 and the reason", () => {
    const token = mintAccessToken(KEY, { thopterId: "t-1", scope: "terminal:ro", exp: inAnHour() });
    expect(denied(() => verifyAccessToken("x".repeat(32), token)).message).toMatch(/signature/);
    const [payload, sig] = token.split(".") as [string, string];
    const forged = Buffer.from(JSON.stringify({ thopterId: "t-1", scope: "terminal", exp: inAnHour() })).toString(
      "base64url",
    );
    expect(denied(() => verifyAccessToken(KEY, `${forged}.${sig}`)).status).toBe(401);
    expect(denied(() => verifyAccessToken(KEY, `${payload}.${sig.slice(0, -2)}`)).message).toMatch(/signature/);
    const old = mintAccessToken(KEY, { thopterId: "t-1", scope: "log", exp: Math.floor(Date.now() / 1000) - 1 });
    const expired = denied(() => verifyAccessToken(KEY, old));
    expect([expired.status, expired.message]).toEqual([401, expect.stringMatching(/expired at .*fresh link/)]);
    expect(denied(() => verifyAccessToken(KEY, "garbage")).message).toMatch(/malformed/);
    expect(denied(() => verifyAccessToken(KEY, "a.b.c")).message).toMatch(/malformed/);
  });

  it("refuses keys too short to be secret and claims outside the schema", () => {
    expect(() => mintAccessToken("short", { thopterId: "t", scope: "log", exp: inAnHour() })).toThrow(/at least 32/);
    expect(() => mintAccessToken(KEY, { thopterId: "t", scope: "admin" as "log", exp: inAnHour() })).toThrow();
  });
});

describe("authorize", () => {
  const token = mintAccessToken(KEY, { thopterId: "t-1", scope: "terminal", exp: inAnHour() });

  it("takes the token from the query once, then from the cookie, and sets a strict HttpOnly cookie", () => {
    const req = request(`/?token=${token}`);
    const granted = authorize(policy, req);
    expect(granted.claims.scope).toBe("terminal");
    const cookie = accessCookie(policy, granted, req) ?? "";
    expect(cookie).toMatch(
      new RegExp(`^thopter_terminal=${token}; Max-Age=(3599|3600); Path=/; HttpOnly; SameSite=Strict$`),
    );
    const again = authorize(policy, request("/", { cookie: `other=1; thopter_terminal=${token}` }));
    expect(again.claims.thopterId).toBe("t-1");
    expect(accessCookie(policy, again, req)).toBeUndefined();
  });

  it("answers 401 without a token, 403 for another thopter or scope", () => {
    expect(denied(() => authorize(policy, request("/"))).status).toBe(401);
    const other = mintAccessToken(KEY, { thopterId: "t-2", scope: "terminal", exp: inAnHour() });
    expect(denied(() => authorize(policy, request(`/?token=${other}`))).message).toMatch(/for thopter t-2, not t-1/);
    const log = mintAccessToken(KEY, { thopterId: "t-1", scope: "log", exp: inAnHour() });
    const wrongScope = denied(() => authorize(policy, request(`/?token=${log}`)));
    expect([wrongScope.status, wrongScope.message]).toEqual([403, expect.stringMatching(/scope "log"/)]);
  });

  it("checks Origin on WebSocket upgrades and state-changing requests: own origin and the hub pass, others get 403", () => {
    const ws = (origin: string) => request(`/ws?token=${token}`, { upgrade: "websocket", origin });
    expect(authorize(policy, ws("http://10.0.0.5:7681")).claims.scope).toBe("terminal");
    expect(authorize(policy, ws("https://hub.example.com")).claims.scope).toBe("terminal");
    const evil = denied(() => authorize(policy, ws("https://evil.example.com")));
    expect([evil.status, evil.message]).toEqual([403, expect.stringMatching(/evil\.example\.com.*not allowed/)]);
    expect(denied(() => authorize(policy, ws("http://10.0.0.5:9999"))).status).toBe(403);
    const post = request(`/?token=${token}`, { origin: "https://evil.example.com" }, "POST");
    expect(denied(() => authorize(policy, post)).status).toBe(403);
    // A plain GET (page load, event stream) is not state-changing: a cross-site link still needs the token only.
    expect(authorize(policy, request(`/?token=${token}`, { origin: "https://evil.example.com" })).claims.scope).toBe(
      "terminal",
    );
  });
});

describe("readAccessKey", () => {
  const dir = mkdtempSync(join(tmpdir(), "thopter-key-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads the key the hub wrote, without its trailing newline, and verifies tokens signed with it", () => {
    const file = join(dir, "ok");
    writeFileSync(file, `${KEY}\n`, { mode: 0o600 });
    const token = mintAccessToken(KEY, { thopterId: "t-1", scope: "log", exp: inAnHour() });
    expect(verifyAccessToken(readAccessKey(file), token).scope).toBe("log");
  });

  it("refuses a key file others can read, and a short key, saying what to fix", () => {
    const open = join(dir, "open");
    writeFileSync(open, KEY);
    chmodSync(open, 0o644);
    expect(() => readAccessKey(open)).toThrow(/mode 644.*chmod 600/);
    const short = join(dir, "short");
    writeFileSync(short, "abc\n", { mode: 0o600 });
    expect(() => readAccessKey(short)).toThrow(/3 bytes/);
  });
});
