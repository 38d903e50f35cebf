import { FileStore } from "./file.js";
import { RedisStore, type RedisStoreOptions } from "./redis.js";
import type { Store } from "./store.js";
import { parseStoreUrl, type StoreLocation } from "./url.js";

export { FileStore } from "./file.js";
export { RedisStore, type RedisStoreOptions } from "./redis.js";
export type { Store } from "./store.js";
export { parseStoreUrl, type StoreLocation, StoreUrlError } from "./url.js";

const FIX = "set STORE_URL to file:PATH or redis://HOST:PORT";

/**
 * Opens the store `STORE_URL` names: `file:PATH` (relative to the working directory) or `redis://…`.
 * Any failure (bad URL, unusable folder, unreachable Redis) is one line that names STORE_URL.
 */
export async function openStore(url: string, options: RedisStoreOptions = {}): Promise<Store> {
  let location: StoreLocation;
  try {
    location = parseStoreUrl(url);
  } catch (err) {
    throw new Error(`STORE_URL: ${(err as Error).message}; ${FIX}`);
  }
  if (location.kind === "file") {
    try {
      return await FileStore.open(location.path);
    } catch (err) {
      throw new Error(
        `STORE_URL: cannot use folder ${location.path} (${(err as Error).message}); fix its permissions or ${FIX}`,
      );
    }
  }
  try {
    return await RedisStore.open(location.url, location.address, options);
  } catch (err) {
    throw new Error(`STORE_URL: ${(err as Error).message}; start Redis there or ${FIX}`);
  }
}
