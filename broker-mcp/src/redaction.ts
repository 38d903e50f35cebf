import { redactRendered } from "@thopter/protocol";

export type Redact = (text: string) => string;

/**
 * Scrubs the broker's own secrets (as they are, in hex and in base64) and every well-known token shape (protocol's
 * patterns), also where they only appear once GitHub renders the text: everything the broker sends or logs is.
 */
export function makeRedactor(secrets: string[]): Redact {
  return (text) => redactRendered(text, secrets);
}

/** Deep copy of a JSON-like value with every string scrubbed: tool arguments on their way into the audit trail. */
export function redactValue(value: unknown, redact: Redact): unknown {
  if (typeof value === "string") return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, redact));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, redact)]));
  }
  return value;
}
