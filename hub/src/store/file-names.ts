import { createHash } from "node:crypto";

/** Longest file name we produce (ext4 and most others allow 255 bytes). */
const MAX_NAME_BYTES = 240;
/** Prefix of names derived from a hash, for keys whose encoding would be too long; the key is in the file. */
const HASHED = "~";
/** Prefix of temporary files; encoded keys never start with it. */
const TEMP = ".tmp-";

/**
 * The file name for a key: percent-encoding of everything but `a-z0-9_.-`, so `/`, `..` and control
 * characters cannot escape the folder, and the name decodes back to the key. Capitals become `^` + the
 * lower-case letter, so keys differing only in case stay apart on case-insensitive file systems (macOS). A
 * leading `.` is encoded too, so no key collides with temporary files or `.`/`..`. Keys too long for a name
 * get a hash-based name.
 */
export function fileNameForKey(key: string): string {
  const encoded = encodeURIComponent(key)
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)
    .replace(/%[0-9A-F]{2}|[A-Z]/g, (m) => (m.length === 1 ? `^${m.toLowerCase()}` : m.toLowerCase()))
    .replace(/^\./, "%2e");
  if (encoded.length <= MAX_NAME_BYTES) return encoded;
  return HASHED + createHash("sha256").update(key).digest("hex");
}

/** What a directory entry is: a key's file (with the key when the name tells it), a temporary file, or other. */
export type EntryKind =
  | { kind: "key"; key: string }
  | { kind: "hashed" }
  | { kind: "temp"; pid: number }
  | { kind: "other" };

export function classifyFileName(name: string): EntryKind {
  if (name.startsWith(TEMP)) return { kind: "temp", pid: Number.parseInt(name.slice(TEMP.length), 10) };
  if (name.startsWith(HASHED)) return { kind: "hashed" };
  if (name.startsWith(".")) return { kind: "other" };
  try {
    return { kind: "key", key: decodeURIComponent(name.replace(/\^([a-z])/g, (_, c: string) => c.toUpperCase())) };
  } catch {
    return { kind: "other" };
  }
}

let tempCounter = 0;

/** A temporary file name unique to this process; the pid lets a later open remove leftovers of dead writers. */
export function tempFileName(): string {
  tempCounter += 1;
  return `${TEMP}${process.pid}-${tempCounter}-${Math.random().toString(36).slice(2, 8)}`;
}
