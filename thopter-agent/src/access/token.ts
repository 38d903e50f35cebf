import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";

/** What a token lets its holder do: type into the terminal, watch it, or read the session log. */
export const AccessScope = z.enum(["terminal", "terminal:ro", "log"]);
export type AccessScope = z.infer<typeof AccessScope>;

/** The signed part of an access token. `exp` is in seconds since the epoch, like JWT. */
export const AccessClaims = z.object({
  thopterId: z.string().min(1),
  scope: AccessScope,
  exp: z.number().int().positive(),
});
export type AccessClaims = z.infer<typeof AccessClaims>;

/** A refused request: `status` is 401 (no usable token) or 403 (a valid token that does not allow this). */
export class AccessDenied extends Error {
  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super(message);
    this.name = "AccessDenied";
  }
}

/** The shortest key accepted: 32 bytes, the HMAC-SHA256 block of entropy. */
const MIN_KEY_BYTES = 32;

function keyBytes(key: string | Buffer): Buffer {
  const bytes = typeof key === "string" ? Buffer.from(key, "utf8") : key;
  if (bytes.length < MIN_KEY_BYTES) {
    throw new Error(`access key is ${bytes.length} bytes; use at least ${MIN_KEY_BYTES} random bytes`);
  }
  return bytes;
}

function sign(key: Buffer, payload: string): Buffer {
  return createHmac("sha256", key).update(payload).digest();
}

/**
 * For the hub: a token `<base64url claims>.<base64url HMAC-SHA256>` that the thopter's terminal and log servers accept
 * until `claims.exp`. The key is per thopter (delivered in its spec as a root-only file).
 */
export function mintAccessToken(key: string | Buffer, claims: AccessClaims): string {
  const payload = Buffer.from(JSON.stringify(AccessClaims.parse(claims))).toString("base64url");
  return `${payload}.${sign(keyBytes(key), payload).toString("base64url")}`;
}

/**
 * For the thopter: the claims of a token signed with `key` that has not expired, or `AccessDenied` (401) saying why
 * not. Scope and thopter id are the caller's to check (see `requireAccess`). The signature is compared in constant time.
 */
export function verifyAccessToken(key: string | Buffer, token: string, nowMs = Date.now()): AccessClaims {
  const [payload, signature, extra] = token.split(".");
  if (!payload || !signature || extra !== undefined) {
    throw new AccessDenied(401, "malformed access token: expected <claims>.<signature>; open the link from the hub");
  }
  const expected = sign(keyBytes(key), payload);
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AccessDenied(401, "access token signature does not match; open a fresh link from the hub");
  }
  let claims: AccessClaims;
  try {
    claims = AccessClaims.parse(JSON.parse(Buffer.from(payload, "base64url").toString("utf8")));
  } catch {
    throw new AccessDenied(401, "access token claims are unreadable; open a fresh link from the hub");
  }
  if (claims.exp * 1000 <= nowMs) {
    throw new AccessDenied(
      401,
      `access token expired at ${new Date(claims.exp * 1000).toISOString()}; open a fresh link from the hub`,
    );
  }
  return claims;
}

/** setTimeout's longest delay (about 24.8 days); later expiries are re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `expire` when the token behind `claims` expires, so a connection opened with it ends then too.
 * Returns a function that cancels it (call it when the connection closes first).
 */
export function onExpiry(claims: AccessClaims, expire: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = claims.exp * 1000 - Date.now();
    timer = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(expire, Math.max(0, left));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
