import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Where `STORE_URL` points: a folder for the file store, or a Redis server. */
export type StoreLocation =
  | { kind: "file"; path: string }
  /** `address` is host:port for messages (no password); `password` is kept apart so logs can scrub it. */
  | { kind: "redis"; url: string; address: string; password?: string };

/** A `STORE_URL` that cannot be used; the message says why, without the variable name. */
export class StoreUrlError extends Error {
  override name = "StoreUrlError";
}

/**
 * Parses `file:PATH` (relative to `cwd`; `file:///abs` also works) or `redis://[:PASSWORD@]HOST[:PORT][/DB]`
 * (`rediss://` for TLS). The URL itself is never echoed in an error: it may carry a password.
 */
export function parseStoreUrl(url: string, cwd = process.cwd()): StoreLocation {
  if (url.startsWith("file:")) return { kind: "file", path: filePath(url, cwd) };
  if (/^rediss?:\/\//.test(url)) return redisLocation(url);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
  throw new StoreUrlError(scheme ? `unsupported scheme "${scheme}:"` : "has no scheme");
}

function filePath(url: string, cwd: string): string {
  let path: string;
  try {
    path = url.startsWith("file://") ? fileURLToPath(url) : url.slice("file:".length);
  } catch (err) {
    throw new StoreUrlError(`is not a usable file URL (${(err as Error).message})`);
  }
  if (path === "") throw new StoreUrlError("file: needs a folder after it, e.g. file:.thopter/state");
  return isAbsolute(path) ? path : resolve(cwd, path);
}

function redisLocation(url: string): StoreLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreUrlError("is not a valid redis:// URL");
  }
  if (parsed.hostname === "") throw new StoreUrlError("redis:// needs a host, e.g. redis://127.0.0.1:6379");
  const db = parsed.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db)) throw new StoreUrlError(`database "/${db}" is not a number`);
  const password = parsed.password === "" ? undefined : decodeURIComponent(parsed.password);
  const address = `${parsed.hostname}:${parsed.port || "6379"}`;
  return password === undefined ? { kind: "redis", url, address } : { kind: "redis", url, address, password };
}
