/** What every scrubbed secret is replaced with, in logs and in comments. */
export const REDACTED = "[REDACTED]";

/**
 * Shapes of well-known credentials, scrubbed even when nobody told us the value (a token pasted into an issue,
 * one read from a file by the agent). Each pattern is global; use it with `replace`, not `test`.
 */
export const TOKEN_PATTERNS: ReadonlyArray<{ name: string; pattern: RegExp }> = [
  { name: "GitHub fine-grained token", pattern: /\bgithub_pat_[A-Za-z0-9_]{20,}/g },
  { name: "GitHub token", pattern: /\bgh[pousr]_[A-Za-z0-9]{20,}/g },
  { name: "Anthropic key", pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/g },
  { name: "Fly token", pattern: /\bfm[12][ar]?_[A-Za-z0-9+/=_-]{20,}/g },
  // Only the password part, so the URL stays readable: https://x-access-token:[REDACTED]@github.com/…
  { name: "password in a URL", pattern: /(?<=\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+(?=@)/g },
];

/**
 * Secrets shorter than this are not scrubbed by value: replacing every "ab" would mangle text and such a
 * value protects nothing anyway. Token shapes above are scrubbed regardless.
 */
const MIN_SECRET_LENGTH = 4;

/**
 * Replaces every occurrence of each known secret value and of every well-known token shape in `text`
 * with `[REDACTED]`. Longer secrets go first, so one that contains another is removed whole.
 */
export function redactSecrets(text: string, extraSecrets: Iterable<string> = []): string {
  const values = [...new Set(extraSecrets)].filter((s) => s.length >= MIN_SECRET_LENGTH);
  values.sort((a, b) => b.length - a.length);
  let out = text;
  for (const value of values) {
    if (out.includes(value)) out = out.split(value).join(REDACTED);
  }
  for (const { pattern } of TOKEN_PATTERNS) out = out.replace(pattern, REDACTED);
  return out;
}
