/** Rules shared by every store implementation, so both behave the same on odd input. */

export const MAX_KEY_LENGTH = 1024;

/** Keys are non-empty, well-formed Unicode strings of reasonable length. */
export function assertKey(key: string): void {
  if (typeof key !== "string" || key === "") throw new TypeError("store key must be a non-empty string");
  if (key.length > MAX_KEY_LENGTH) throw new TypeError(`store key is longer than ${MAX_KEY_LENGTH} characters`);
  try {
    encodeURIComponent(key);
  } catch {
    throw new TypeError("store key must be well-formed Unicode (no lone surrogates)");
  }
}

/** Values are stored as JSON; anything JSON cannot represent at the top level is refused. */
export function toJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError(`store value must be JSON-serializable, got ${typeof value}`);
  return json;
}

/** The order of `list` results: by key, comparing UTF-16 code units, the same in every implementation. */
export function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
