import { encodedForms, TOKEN_PATTERNS } from "@thopter/protocol";

export interface Finding {
  what: string;
}

export type Matcher = (text: string) => Finding | null;

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const GITHUB_TOKEN = "the broker's GitHub token";
const HELD_SECRET = "a secret this thopter holds (the model credential or a value .env.thopters marks secret)";

/**
 * The exact values to look for, as regex sources with the name a refusal gives them: the GitHub tokens and the
 * thopter's other secrets, each as it is and in hex and base64 (the forms redaction knows too).
 */
function exactSecrets(github: string[], held: string[]): Array<{ name: string; source: string }> {
  const named = (values: string[], name: string) =>
    values
      .filter((s) => s.length >= 8)
      .flatMap((s) =>
        encodedForms(s).map((form, i) => ({
          name: i ? `${name}, hex- or base64-encoded` : name,
          source: literal(form),
        })),
      );
  return [...named(github, GITHUB_TOKEN), ...named(held, HELD_SECRET)];
}

/**
 * Text in UTF-16 or UTF-32 (with or without a byte order mark, either byte order) reads as ASCII once its NUL bytes
 * are gone: every token is ASCII, so a text with NULs is searched that way too.
 */
const withoutNuls = (text: string) => (text.includes("\0") ? text.replaceAll("\0", "") : null);

/**
 * One regex for every well-known token shape plus the exact secrets, so each line is tested once; a line with NUL
 * bytes also without them.
 */
export function secretMatcher(secrets: string[], held: string[] = []): Matcher {
  const named = [
    ...exactSecrets(secrets, held),
    ...TOKEN_PATTERNS.map((p) => ({ name: `a ${p.name}`, source: p.pattern.source })),
  ];
  const any = new RegExp(named.map((n) => `(${n.source})`).join("|"));
  const find = (text: string) => {
    const m = any.exec(text);
    if (!m) return null;
    const i = m.slice(1).findIndex((g) => g !== undefined);
    return { what: named[i]!.name };
  };
  return (text) => {
    const bare = withoutNuls(text);
    return find(text) ?? (bare === null ? null : find(bare));
  };
}

/**
 * For each token pattern (by its source), a near-literal regex that every match of it contains. The fast pass
 * searches for these alone, several times cheaper than the patterns (the URL one looks behind at every position),
 * and runs the patterns only near what it finds. A pattern missing here (new or changed) is searched for as it is:
 * slower, never weaker.
 */
const HINTS = new Map<string, string>([
  [String.raw`\bgithub_pat_[A-Za-z0-9_]{20,}`, "github_pat_"],
  [String.raw`\bgh[pousr]_[A-Za-z0-9]{20,}`, "gh[pousr]_"],
  [String.raw`\bsk-ant-[A-Za-z0-9_-]{20,}`, "sk-ant-"],
  [String.raw`\bfm[12][ar]?_[A-Za-z0-9+/=_-]{20,}`, "fm[12]"],
  [String.raw`(?<=\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+(?=@)`, "://"],
]);

/** Token patterns the fast pass has no hint for (exported so a test keeps HINTS in step with the protocol). */
export const unhintedPatterns = () => TOKEN_PATTERNS.filter((p) => !HINTS.has(p.pattern.source));

/** Longer than any token: how far around a hint the patterns look, and what is kept of one chunk for the next. */
export const OVERLAP = 1_024;

/**
 * Whether `text` may contain a secret: the exact patterns run on the text within OVERLAP of each hint (windows
 * merged), so every match no longer than OVERLAP is found, with context on both sides as it is in `text`.
 */
export function secretSearcher(secrets: string[], held: string[] = []): (text: string) => boolean {
  const match = secretMatcher(secrets, held);
  const sources = [
    ...exactSecrets(secrets, held).map((s) => s.source),
    ...TOKEN_PATTERNS.map((p) => HINTS.get(p.pattern.source) ?? p.pattern.source),
  ];
  const hints = new RegExp(sources.join("|"), "g");
  const search = (text: string) => {
    let start = 0;
    let end = -1;
    hints.lastIndex = 0;
    // Every position is tried (lastIndex one past each hit, not past its end), so overlapping hints are all seen.
    for (let hit = hints.exec(text); hit; hints.lastIndex = hit.index + 1, hit = hints.exec(text)) {
      if (hit.index - OVERLAP > end) {
        if (end >= 0 && match(text.slice(start, end))) return true;
        start = Math.max(0, hit.index - OVERLAP);
      }
      end = Math.min(text.length, hit.index + OVERLAP);
    }
    return end >= 0 && match(text.slice(start, end)) !== null;
  };
  return (text) => {
    const bare = withoutNuls(text);
    return search(text) || (bare !== null && search(bare));
  };
}
