import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Store } from "../store/store.js";

/** `status`: the observer's token (POST /v1/status). `broker`: the push broker's (POST /v1/reports). */
export type TokenRole = "status" | "broker";

export interface ThopterTokens {
  status: string;
  broker: string;
}

type Hashes = Record<TokenRole, string>;

const PREFIX = "tokens/";
const TOKEN_SHAPE = /^thopter-(status|broker)\.([a-z0-9][a-z0-9._-]{0,62})\.([A-Za-z0-9_-]{43})$/;

const sha256 = (text: string): Buffer => createHash("sha256").update(text).digest();

/**
 * Per-thopter collector credentials. The hub keeps only their sha256 (in the store and in memory); the plain
 * tokens exist once, when minted, to be put into the thopter's spec. A token names its role and thopter, so a
 * check is one lookup and one constant-time comparison.
 */
export class TokenStore {
  private readonly hashes = new Map<string, { status: Buffer; broker: Buffer }>();

  private constructor(private readonly store: Store) {}

  static async open(store: Store): Promise<TokenStore> {
    const tokens = new TokenStore(store);
    for (const { key, value } of await store.list<Hashes>(PREFIX)) {
      tokens.hashes.set(key.slice(PREFIX.length), {
        status: Buffer.from(value.status, "hex"),
        broker: Buffer.from(value.broker, "hex"),
      });
    }
    return tokens;
  }

  /** Makes both tokens for a thopter (replacing any earlier pair) and stores their hashes before returning them. */
  async mint(thopterId: string): Promise<ThopterTokens> {
    const make = (role: TokenRole) => `thopter-${role}.${thopterId}.${randomBytes(32).toString("base64url")}`;
    const tokens: ThopterTokens = { status: make("status"), broker: make("broker") };
    if (!TOKEN_SHAPE.test(tokens.status))
      throw new Error(`thopter id ${JSON.stringify(thopterId)} cannot name a token`);
    const hashes = { status: sha256(tokens.status), broker: sha256(tokens.broker) };
    await this.store.put(PREFIX + thopterId, {
      status: hashes.status.toString("hex"),
      broker: hashes.broker.toString("hex"),
    });
    this.hashes.set(thopterId, hashes);
    return tokens;
  }

  /** The thopter a token belongs to, if it is valid for this role; undefined otherwise (unknown, revoked, other role). */
  verify(token: string, role: TokenRole): string | undefined {
    const match = TOKEN_SHAPE.exec(token);
    if (!match || match[1] !== role) return undefined;
    const thopterId = match[2]!;
    const expected = this.hashes.get(thopterId)?.[role];
    if (!expected) return undefined;
    return timingSafeEqual(sha256(token), expected) ? thopterId : undefined;
  }

  /** Forgets a thopter's tokens: reports from it are refused from now on. */
  async revoke(thopterId: string): Promise<void> {
    this.hashes.delete(thopterId);
    await this.store.delete(PREFIX + thopterId);
  }
}
