// Reading log lines whose shape is not trusted: transcripts and the boot log are files other processes write.

export type Json = Record<string, unknown>;

/** What `parseJson` returns for a line that is not JSON at all (as opposed to JSON of an unexpected shape). */
export const NOT_JSON = Symbol("not JSON");

export function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return NOT_JSON;
  }
}

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
