/** KEY="value" lines (JSON-quoted, so dotenv gives any value back byte for byte), one a line, no final newline. */
export const envLines = (env: Record<string, string>): string =>
  Object.entries(env)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join("\n");
