/**
 * The hub's durable state behind one small interface: JSON values under string keys.
 * Keys are `/`-separated paths such as `requests/<id>` or `cursor/<owner>/<repo>`; `list(prefix)` returns
 * every entry whose key starts with the prefix, sorted by key. Implementations: file (embedded) and Redis.
 */
export interface Store {
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Durable before it resolves: after a kill -9 the value is either the old or the new one, never torn. */
  put(key: string, value: unknown): Promise<void>;
  /** Atomic create: true if the key was absent and is now set, false if it already existed (value untouched). */
  putIfAbsent(key: string, value: unknown): Promise<boolean>;
  delete(key: string): Promise<void>;
  list<T = unknown>(prefix: string): Promise<Array<{ key: string; value: T }>>;
  close(): Promise<void>;
}
