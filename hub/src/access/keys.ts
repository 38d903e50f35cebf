import { randomBytes } from "node:crypto";
import { type AccessScope, mintAccessToken } from "@thopter/agent/access/index";
import type { Store } from "../store/store.js";
import { freePort } from "./ports.js";

/** Where one thopter's web terminal and session-log servers listen, and the key their access tokens are signed with. */
export interface ThopterAccess {
  key: string;
  host: string;
  terminalPort: number;
  logPort: number;
}

/**
 * Where thopters' servers listen. Fly machines each have their own address, so fixed ports do; local thopters share
 * the host, so each gets free ports of its own.
 */
export interface AccessPlacement {
  host: string;
  ports(): Promise<{ terminalPort: number; logPort: number }>;
}

export const FLY_PLACEMENT: AccessPlacement = {
  host: "::",
  ports: async () => ({ terminalPort: 7681, logPort: 7682 }),
};

export const LOCAL_PLACEMENT: AccessPlacement = {
  host: "127.0.0.1",
  ports: async () => ({ terminalPort: await freePort("127.0.0.1"), logPort: await freePort("127.0.0.1") }),
};

const PREFIX = "access/";
/**
 * How long a viewer link (terminal, session log, boot log) works; an open terminal closes when its token expires, so
 * this is a working day. Each link is minted for one thopter, with that thopter's own key.
 */
export const VIEWER_TOKEN_TTL_SECONDS = 8 * 3600;

/**
 * Per-thopter access keys, kept in the store (`access/<thopterId>`) so a restarted hub can still mint viewer tokens
 * for thopters it provisioned before, and in memory so minting is synchronous (the dashboard asks on every page).
 */
export class AccessKeys {
  private constructor(
    private readonly store: Store,
    private readonly placement: AccessPlacement,
    private readonly entries: Map<string, ThopterAccess>,
  ) {}

  static async open(store: Store, placement: AccessPlacement): Promise<AccessKeys> {
    const stored = await store.list<ThopterAccess>(PREFIX);
    return new AccessKeys(store, placement, new Map(stored.map(({ key, value }) => [key.slice(PREFIX.length), value])));
  }

  /** A new random 32-byte key and listening ports for a thopter being provisioned, stored before it is returned. */
  async issue(thopterId: string): Promise<ThopterAccess> {
    const access: ThopterAccess = {
      key: randomBytes(32).toString("base64url"),
      host: this.placement.host,
      ...(await this.placement.ports()),
    };
    await this.store.put(PREFIX + thopterId, access);
    this.entries.set(thopterId, access);
    return access;
  }

  /** Drops the keys of thopters that no longer run (`live` says which do), so the store does not grow forever. */
  async prune(live: (thopterId: string) => boolean): Promise<void> {
    for (const thopterId of [...this.entries.keys()].filter((id) => !live(id))) {
      await this.store.delete(PREFIX + thopterId);
      this.entries.delete(thopterId);
    }
  }

  get(thopterId: string): ThopterAccess | undefined {
    return this.entries.get(thopterId);
  }

  /** A token for the thopter's terminal or log, or undefined when the hub holds no key for it. */
  mint(thopterId: string, scope: AccessScope, nowMs = Date.now()): string | undefined {
    const access = this.entries.get(thopterId);
    if (!access) return undefined;
    return mintAccessToken(access.key, { thopterId, scope, exp: Math.floor(nowMs / 1000) + VIEWER_TOKEN_TTL_SECONDS });
  }
}
