import { TOKEN_PATTERNS } from "@thopter/protocol";
import { Refusal } from "../refusal.js";
import { UNKNOWN_BASE } from "./bundle.js";
import type { Mirror } from "./mirror.js";
import { GitError } from "./run.js";

export interface InspectOptions {
  /** The commit about to be pushed, already in the mirror. */
  sha: string;
  /** Commits origin already has: only what lies between them and `sha` is new. */
  known: string[];
  maxFileBytes: number;
  /** Exact secret values (the coder token) to look for besides the well-known shapes. */
  secrets: string[];
}

interface Finding {
  what: string;
}

/**
 * Runs the checks on the new commits, concurrently; throws a Refusal naming the first problem and how to fix it.
 * The walk over the new objects comes first: when objects are missing, that is the problem to report.
 */
export async function inspectPush(mirror: Mirror, opts: InspectOptions): Promise<void> {
  const range = [opts.sha, "--not", ...opts.known];
  const [objects, secrets] = await Promise.allSettled([
    checkObjects(mirror, range, opts.maxFileBytes),
    checkForSecrets(mirror, range, opts.secrets),
  ]);
  if (objects.status === "rejected") throw objects.reason;
  if (secrets.status === "rejected") throw secrets.reason;
}

const mb = (bytes: number) => `${Math.ceil(bytes / 1024 / 1024)} MB`;

/**
 * Walks every object the push adds. git fails on any that is missing (the commits must build on history the mirror
 * has: this is the connectivity check), and `--filter=blob:limit` makes it list only blobs over GitHub's limit, so
 * the usual case prints nothing.
 */
async function checkObjects(mirror: Mirror, range: string[], maxFileBytes: number): Promise<void> {
  const filter = [`--filter=blob:limit=${maxFileBytes + 1}`, "--filter-print-omitted"];
  let stdout: string;
  try {
    ({ stdout } = await mirror.git(["rev-list", "--objects", "--quiet", ...filter, ...range]));
  } catch (err) {
    throw err instanceof GitError ? new Refusal(UNKNOWN_BASE) : err;
  }
  const big = stdout
    .split("\n")
    .filter((l) => l.startsWith("~"))
    .map((l) => l.slice(1));
  if (big.length === 0) return;
  const { stdout: objects } = await mirror.git(["rev-list", "--objects", ...range]);
  const path =
    objects
      .split("\n")
      .find((l) => l.startsWith(`${big[0]} `))
      ?.slice(big[0]!.length + 1) ?? big[0];
  const { stdout: size } = await mirror.git(["cat-file", "-s", big[0]!]);
  throw new Refusal(
    `${path} is ${mb(Number(size))}; GitHub refuses files over ${mb(maxFileBytes)}. Remove it from every new commit (for example \`git rm --cached ${path}\`, add it to .gitignore and rewrite the commits with \`git rebase -i\` or \`git reset --soft\`), then call push_branch again.`,
  );
}

/** One regex for every well-known token shape plus the exact secrets, so each line is tested once. */
type Matcher = (text: string) => Finding | null;

const exactSecrets = (secrets: string[]) => secrets.filter((s) => s.length >= 8);
const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export function secretMatcher(secrets: string[]): Matcher {
  const named = [
    ...exactSecrets(secrets).map((s) => ({ name: "the broker's GitHub token", source: literal(s) })),
    ...TOKEN_PATTERNS.map((p) => ({ name: `a ${p.name}`, source: p.pattern.source })),
  ];
  const any = new RegExp(named.map((n) => `(${n.source})`).join("|"));
  return (text) => {
    const m = any.exec(text);
    if (!m) return null;
    const i = m.slice(1).findIndex((g) => g !== undefined);
    return { what: named[i]!.name };
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
const OVERLAP = 1_024;

/**
 * Whether `text` may contain a secret: the exact patterns run on the text within OVERLAP of each hint (windows
 * merged), so every match no longer than OVERLAP is found, with context on both sides as it is in `text`.
 */
export function secretSearcher(secrets: string[]): (text: string) => boolean {
  const match = secretMatcher(secrets);
  const sources = [
    ...exactSecrets(secrets).map(literal),
    ...TOKEN_PATTERNS.map((p) => HINTS.get(p.pattern.source) ?? p.pattern.source),
  ];
  const hints = new RegExp(sources.join("|"), "g");
  return (text) => {
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
}

const refuseSecret = (where: string, what: string) =>
  new Refusal(
    `${where} contains ${what}. Secrets must never be pushed: remove it from every new commit (rewrite them with \`git rebase -i\` or \`git reset --soft\` and commit again), then call push_branch again.`,
  );

/** Only added lines matter, so no context lines (-U0); external diff drivers and textconv off. */
const DIFF = ["log", "-p", "-U0", "--cc", "--text", "--no-ext-diff", "--no-textconv", "--no-renames", "--no-color"];
const MESSAGES = "--format=%x00%H%n%B";

/**
 * Added lines of every new commit (combined diffs for merges, so an evil merge is seen too) and every new commit
 * message must carry no token. A first pass, one git process for messages and diffs together, only asks whether
 * anything looks like a secret; the precise passes, which tell added lines from removed ones and name the commit,
 * run only when something does.
 */
async function checkForSecrets(mirror: Mirror, range: string[], secrets: string[]): Promise<void> {
  if (!(await mentionsSecret(mirror, range, secretSearcher(secrets)))) return;
  const match = secretMatcher(secrets);
  const [line, message] = await Promise.all([addedSecret(mirror, range, match), messageSecret(mirror, range, match)]);
  const found = line ?? message;
  if (found) throw found;
}

async function mentionsSecret(mirror: Mirror, range: string[], search: (text: string) => boolean): Promise<boolean> {
  let carry = "";
  let hit = false;
  await mirror
    .git([...DIFF, MESSAGES, ...range], {
      onStdout: (chunk) => {
        const text = carry + chunk.toString("latin1");
        hit = search(text);
        carry = text.slice(-OVERLAP);
        return !hit;
      },
    })
    .catch((err) => {
      if (!hit) throw err;
    });
  return hit;
}

async function messageSecret(mirror: Mirror, range: string[], match: Matcher): Promise<Refusal | null> {
  const { stdout } = await mirror.git(["log", MESSAGES, ...range]);
  for (const entry of stdout.split("\0").filter(Boolean)) {
    const hit = match(entry);
    if (hit) return refuseSecret(`The message of commit ${entry.slice(0, 12)}`, hit.what);
  }
  return null;
}

/** The precise pass: which commit adds which line to which file. */
async function addedSecret(mirror: Mirror, range: string[], match: Matcher): Promise<Refusal | null> {
  let commit = "";
  let file = "";
  let inHeader = false;
  let columns = 1;
  let found: Refusal | null = null;
  let rest = "";
  // Header lines ("diff", "+++ b/path") only count between a "diff" line and its first hunk: inside a hunk, an added
  // line "++ x" reads "+++ x" and must still be scanned.
  const onLine = (line: string) => {
    if (line.startsWith("\0")) {
      commit = line.slice(1, 13);
      inHeader = false;
    } else if (line.startsWith("diff ")) {
      inHeader = true;
    } else if (inHeader && line.startsWith("+++ ")) {
      file = Buffer.from(line.startsWith("+++ b/") ? line.slice(6) : line.slice(4), "latin1").toString("utf8");
    } else if (line.startsWith("@@")) {
      inHeader = false;
      columns = Math.max(1, (/^@+/.exec(line)?.[0].length ?? 2) - 1);
    } else if (!inHeader) {
      const prefix = line.slice(0, columns);
      if (!prefix.includes("+") || prefix.includes("-")) return;
      const hit = match(line.slice(columns));
      if (hit) found = refuseSecret(`Commit ${commit} adds a line to ${file} that`, hit.what);
    }
  };
  await mirror
    .git([...DIFF, "--format=%x00%H", ...range], {
      onStdout: (chunk) => {
        const lines = (rest + chunk.toString("latin1")).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
          onLine(line);
          if (found) return false;
        }
        return true;
      },
    })
    .catch((err) => {
      if (!found) throw err;
    });
  if (!found && rest) onLine(rest);
  return found;
}
