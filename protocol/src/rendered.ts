import { decodeHTML } from "entities";
import { MIN_SECRET_LENGTH, REDACTED, TOKEN_PATTERNS } from "./secrets.js";

/**
 * What GitHub's markdown renderer turns into something else, one unit at a time: HTML comments (an unterminated
 * one hides the rest), tags, entities, percent escapes (links) and backslash escapes; with UNIT_ALL also invisible
 * format characters (zero-width joiners, soft hyphens, bidi marks) and every non-ASCII character (NFKC: full-width
 * and mathematical letters read as ASCII).
 */
const MARKUP = String.raw`<!--[\s\S]*?(?:-->|$)|<\/?[A-Za-z][^<>]*>|&(?:#\d+|#[xX][\dA-Fa-f]+|[A-Za-z][A-Za-z\d]*);?|%[\dA-Fa-f]{2}|\\[!-/:-@[-\x60{-~]`;
const UNIT_MARKUP = new RegExp(MARKUP, "gu");
const UNIT_ALL = new RegExp(`${MARKUP}|[^\\0-\\x7F]`, "gu");
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/u;

/** Most text (code, English, CJK) is its own NFKC form and has nothing invisible: its characters need no visit. */
const unitsOf = (text: string) => (INVISIBLE.test(text) || text.normalize("NFKC") !== text ? UNIT_ALL : UNIT_MARKUP);

function rendered(unit: string): string {
  if (unit.startsWith("<")) return "";
  if (unit.startsWith("&")) return decodeHTML(unit).normalize("NFKC");
  if (unit.startsWith("%")) {
    const code = Number.parseInt(unit.slice(1), 16);
    return code < 0x80 ? String.fromCharCode(code) : unit;
  }
  if (unit.startsWith("\\")) return unit.slice(1);
  if (INVISIBLE.test(unit)) return "";
  return unit.normalize("NFKC");
}

/** A text as it reads once rendered, with the range of the original each of its characters came from. */
interface View {
  text: string;
  from: number[];
  to: number[];
}

function identity(text: string): View {
  const from = Array.from({ length: text.length }, (_, i) => i);
  return { text, from, to: from.map((i) => i + 1) };
}

/** One round of decoding; the ranges point into `view`'s original. */
function decodeOnce(view: View): View {
  const out: View = { text: "", from: [], to: [] };
  const keep = (start: number, end: number) => {
    out.text += view.text.slice(start, end);
    for (let i = start; i < end; i++) {
      out.from.push(view.from[i]!);
      out.to.push(view.to[i]!);
    }
  };
  let last = 0;
  for (const m of view.text.matchAll(unitsOf(view.text))) {
    keep(last, m.index);
    last = m.index + m[0].length;
    const piece = rendered(m[0]);
    out.text += piece;
    for (let i = 0; i < piece.length; i++) {
      out.from.push(view.from[m.index]!);
      out.to.push(view.to[last - 1]!);
    }
  }
  keep(last, view.text.length);
  return out;
}

/** Decodes until nothing changes (at most a few rounds: `&amp;#95;`, `%26%2395%3B`). */
function decodedView(text: string): View {
  let view = identity(text);
  for (let round = 0; round < 4; round++) {
    const next = decodeOnce(view);
    if (next.text === view.text) break;
    view = next;
  }
  return view;
}

/** Secrets this short are scrubbed as they are, but their encoded forms would match too much ordinary text. */
const MIN_ENCODED_LENGTH = 12;

/** The base64 characters that encode `secret` whatever its offset in a longer encoded text (3 alignments). */
function base64Forms(secret: Buffer): string[] {
  const forms: string[] = [];
  for (const shift of [0, 1, 2]) {
    const n = shift + secret.length;
    const encoded = Buffer.concat([Buffer.alloc(shift), secret]).toString("base64");
    const exact = encoded.slice([0, 2, 3][shift], Math.floor(n / 3) * 4 + [0, 1, 2][n % 3]!);
    forms.push(exact, exact.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return forms;
}

/** A secret as it is, then (when long enough not to match ordinary text) in hex and in base64, standard and URL-safe. */
export function encodedForms(secret: string): string[] {
  if (secret.length < MIN_ENCODED_LENGTH) return [secret];
  const bytes = Buffer.from(secret, "utf8");
  return [secret, bytes.toString("hex"), bytes.toString("hex").toUpperCase(), ...base64Forms(bytes)];
}

/** Each secret in all its forms, longest first. */
function secretForms(secrets: Iterable<string>): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    for (const form of encodedForms(secret)) forms.add(form);
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Ranges of `text` that any pattern matches, overlapping matches included. */
function matches(text: string, patterns: RegExp[]): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  for (const pattern of patterns) {
    const re = new RegExp(pattern.source, "g");
    for (let m = re.exec(text); m; re.lastIndex = m.index + 1, m = re.exec(text)) {
      if (m[0].length > 0) found.push([m.index, m.index + m[0].length]);
    }
  }
  return found;
}

/**
 * `redactSecrets` for text GitHub renders (comments, pull requests, status summaries): a secret is found also when
 * it only appears once rendered (`gh<!-- -->p_…`, `ghp&#95;…`, zero-width joiners, full-width letters, `%5F`,
 * `\_`) or encoded (the known secrets in hex or base64). Whatever part of the original text renders as the secret
 * is replaced with `[REDACTED]`; the rest is left as written.
 */
export function redactRendered(text: string, secrets: Iterable<string> = []): string {
  const forms = secretForms(secrets);
  const patterns = TOKEN_PATTERNS.map((p) => p.pattern);
  if (forms.length > 0) patterns.push(new RegExp(forms.map(literal).join("|")));
  const view = decodedView(text);
  const ranges = matches(text, patterns);
  for (const [start, end] of matches(view.text, patterns)) ranges.push([view.from[start]!, view.to[end - 1]!]);
  if (ranges.length === 0) return text;
  ranges.sort((a, b) => a[0] - b[0]);
  let out = "";
  let kept = 0;
  for (const [start, end] of ranges) {
    if (end <= kept) continue;
    out += text.slice(kept, Math.max(kept, start)) + (start >= kept ? REDACTED : "");
    kept = end;
  }
  return out + text.slice(kept);
}
