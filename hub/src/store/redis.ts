import { Redis } from "ioredis";
import { assertKey, byKey, toJson } from "./codec.js";
import type { Store } from "./store.js";

/** Keys per MGET while listing: large enough to need few round trips, small enough not to stall the server. */
const MGET_BATCH = 500;

/** Sets the value and indexes the key only if the key was absent, atomically. */
const PUT_IF_ABSENT = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('ZADD', KEYS[2], 0, ARGV[2])
  return 1
end
return 0`;

export interface RedisStoreOptions {
  /** Prefix of every Redis key this store touches, so several stores (or tests) can share one server. */
  namespace?: string;
  /** How long the first connection may take before `open` gives up. */
  connectTimeoutMs?: number;
}

/**
 * The store on Redis (ioredis): each value is a JSON string under `<namespace>v:<key>`, and every key is also a
 * member of the sorted set `<namespace>keys` (all scores 0), so `list(prefix)` is one ZRANGEBYLEX plus MGETs
 * instead of a SCAN over the whole server. Value and index change together (MULTI, or a script).
 */
export class RedisStore implements Store {
  private readonly indexKey: string;

  private constructor(
    private readonly client: Redis,
    private readonly namespace: string,
  ) {
    this.indexKey = `${namespace}keys`;
  }

  /**
   * Connects and checks the server answers; fails fast (no endless retries) when it cannot be reached.
   * `address` (host:port) names the server in errors, as the URL may carry a password.
   */
  static async open(url: string, address: string, options: RedisStoreOptions = {}): Promise<RedisStore> {
    let connected = false;
    let lastError: Error | undefined;
    const client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      maxRetriesPerRequest: 3,
      // Before the first success, give up at once so a wrong STORE_URL stops the hub; after it, keep retrying.
      retryStrategy: (times) => (connected ? Math.min(times * 200, 2000) : null),
    });
    client.on("error", (err: Error) => {
      lastError = err;
    });
    try {
      await client.connect();
      await client.ping();
      connected = true;
    } catch (err) {
      client.disconnect();
      const reason = (lastError ?? (err as Error)).message;
      throw new Error(`cannot use Redis at ${address} (${reason})`);
    }
    return new RedisStore(client, options.namespace ?? "thopter:");
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    assertKey(key);
    const json = await this.client.get(this.valueKey(key));
    return json === null ? undefined : (this.parse(key, json) as T);
  }

  async put(key: string, value: unknown): Promise<void> {
    assertKey(key);
    const json = toJson(value);
    await this.exec(this.client.multi().set(this.valueKey(key), json).zadd(this.indexKey, 0, key));
  }

  async putIfAbsent(key: string, value: unknown): Promise<boolean> {
    assertKey(key);
    const json = toJson(value);
    const created = await this.client.eval(PUT_IF_ABSENT, 2, this.valueKey(key), this.indexKey, json, key);
    return created === 1;
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    await this.exec(this.client.multi().del(this.valueKey(key)).zrem(this.indexKey, key));
  }

  async list<T = unknown>(prefix: string): Promise<Array<{ key: string; value: T }>> {
    // Keys are UTF-8, which never contains byte 0xff: "(prefix\xff" is an exclusive upper bound for the prefix.
    const keys =
      prefix === ""
        ? await this.client.zrangebylex(this.indexKey, "-", "+")
        : await this.client.zrangebylex(
            this.indexKey,
            Buffer.from(`[${prefix}`),
            Buffer.concat([Buffer.from(`(${prefix}`), Buffer.from([0xff])]),
          );
    const out: Array<{ key: string; value: T }> = [];
    for (let i = 0; i < keys.length; i += MGET_BATCH) {
      const batch = keys.slice(i, i + MGET_BATCH);
      const values = await this.client.mget(batch.map((k) => this.valueKey(k)));
      batch.forEach((key, j) => {
        const json = values[j];
        if (json !== null && json !== undefined) out.push({ key, value: this.parse(key, json) as T });
      });
    }
    // Same order as the file store (UTF-16 code units), which differs from Redis's byte order past U+FFFF.
    return out.sort(byKey);
  }

  async close(): Promise<void> {
    if (this.client.status === "end") return;
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private parse(key: string, json: string): unknown {
    try {
      return JSON.parse(json);
    } catch (err) {
      throw new Error(`Redis value ${this.valueKey(key)} is not JSON (${(err as Error).message}); delete or fix it`);
    }
  }

  private valueKey(key: string): string {
    return `${this.namespace}v:${key}`;
  }

  /** Runs a MULTI and surfaces the first failed command (ioredis reports them per command). */
  private async exec(multi: ReturnType<Redis["multi"]>): Promise<void> {
    const results = await multi.exec();
    if (results === null) throw new Error("Redis transaction was aborted");
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
  }
}
