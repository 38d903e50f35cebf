import { secretKeys, ThopterEnvError } from "@thopter/protocol";
import { parse as parseDotenv } from "dotenv";

/** A credential no thopter may hold: the agent is untrusted and could read it. */
const FORBIDDEN_VALUES: ReadonlyArray<{ what: string; pattern: RegExp }> = [
  {
    what: "a GitHub token (only the push broker may hold one)",
    pattern: /\b(github_pat_|gh[pousr]_)[A-Za-z0-9_]{20,}/,
  },
  { what: "a Fly API token", pattern: /\bfm[12][ar]?_[A-Za-z0-9+/=_-]{20,}/ },
  { what: "an AWS access key", pattern: /\bAKIA[0-9A-Z]{16}\b/ },
  { what: "a live Stripe key", pattern: /\b[sr]k_live_[A-Za-z0-9]{10,}/ },
  { what: "a private key", pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
];
const PRODUCTION_NAME = /(^|_)(PROD|PRODUCTION|LIVE)(_|$)/i;
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks a `.env.thopters` file: only `KEY=value` lines (comments and blank lines allowed), no shell commands, and no
 * credential that obviously must not reach an untrusted agent. Returns one message per problem, naming the line and
 * the key but never the value; an empty list means the file is fine.
 */
export function checkThopterEnv(text: string): string[] {
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    const where = `line ${index + 1}`;
    if (line === "" || line.startsWith("#")) return;
    const eq = line.indexOf("=");
    const key = eq > 0 ? line.slice(0, eq).trim() : "";
    if (!KEY.test(key)) {
      problems.push(`${where}: not a KEY=value line (commands and \`export\` are not allowed; write NAME=value)`);
      return;
    }
    const value = Object.values(parseDotenv(line))[0] ?? "";
    if (/\$\(|`/.test(value)) {
      problems.push(`${where}: ${key} looks like a shell command; values are taken literally, give the value itself`);
    }
    if (PRODUCTION_NAME.test(key)) {
      problems.push(`${where}: ${key} names a production setting; thopters must never get production credentials`);
    }
    for (const { what, pattern } of FORBIDDEN_VALUES) {
      if (pattern.test(value)) problems.push(`${where}: ${key} holds ${what}; remove it`);
    }
  });
  // The hub would refuse to start with a secret it cannot protect: say so before the upload.
  try {
    secretKeys(text, parseDotenv(text), "");
  } catch (err) {
    if (!(err instanceof ThopterEnvError)) throw err;
    problems.push(err.message);
  }
  return problems;
}
