import { TOKEN_PATTERNS } from "@thopter/protocol";
import { Refusal } from "../refusal.js";
import type { Mirror } from "./mirror.js";

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

/** Runs both checks on the new commits; throws a Refusal naming the first problem and how to fix it. */
export async function inspectPush(mirror: Mirror, opts: InspectOptions): Promise<void> {
  const range = [opts.sha, "--not", ...opts.known];
  await Promise.all([checkFileSizes(mirror, range, opts.maxFileBytes), checkForSecrets(mirror, range, opts.secrets)]);
}

const mb = (bytes: number) => `${Math.ceil(bytes / 1024 / 1024)} MB`;

/** GitHub rejects files over 100 MB; `--filter=blob:limit` makes git list only those, so the usual case is cheap. */
async function checkFileSizes(mirror: Mirror, range: string[], maxFileBytes: number): Promise<void> {
  const filter = [`--filter=blob:limit=${maxFileBytes + 1}`, "--filter-print-omitted"];
  const { stdout } = await mirror.git(["rev-list", "--objects", ...filter, ...range]);
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

export function secretMatcher(secrets: string[]): Matcher {
  const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const named = [
    ...secrets.filter((s) => s.length >= 8).map((s) => ({ name: "the broker's GitHub token", source: literal(s) })),
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

const refuseSecret = (where: string, what: string) =>
  new Refusal(
    `${where} contains ${what}. Secrets must never be pushed: remove it from every new commit (rewrite them with \`git rebase -i\` or \`git reset --soft\` and commit again), then call push_branch again.`,
  );

const DIFF = [
  "log",
  "-p",
  "--cc",
  "--text",
  "--no-ext-diff",
  "--no-textconv",
  "--no-renames",
  "--no-color",
  "--format=%x00%H",
];

/** Longer than any token: what is kept of one chunk to catch a token split across two. */
const OVERLAP = 1_024;

/**
 * Added lines of every new commit (combined diffs for merges, so an evil merge is seen too) and every new commit
 * message must carry no token. Diffs run with external diff drivers and textconv off. A first pass only asks whether
 * anything in the diffs looks like a secret (one regex over each chunk); lines are parsed only when something does.
 */
async function checkForSecrets(mirror: Mirror, range: string[], secrets: string[]): Promise<void> {
  const match = secretMatcher(secrets);
  const messages = mirror.git(["log", "--format=%x00%H%n%B", ...range]);
  if (await diffMentionsSecret(mirror, range, match)) {
    const found = await addedSecret(mirror, range, match);
    if (found) throw found;
  }
  const { stdout } = await messages;
  for (const entry of stdout.split("\0").filter(Boolean)) {
    const hit = match(entry);
    if (hit) throw refuseSecret(`The message of commit ${entry.slice(0, 12)}`, hit.what);
  }
}

async function diffMentionsSecret(mirror: Mirror, range: string[], match: Matcher): Promise<boolean> {
  let carry = "";
  let hit = false;
  await mirror
    .git([...DIFF, ...range], {
      onStdout: (chunk) => {
        const text = carry + chunk.toString("latin1");
        hit = match(text) !== null;
        carry = text.slice(-OVERLAP);
        return !hit;
      },
    })
    .catch((err) => {
      if (!hit) throw err;
    });
  return hit;
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
    .git([...DIFF, ...range], {
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
