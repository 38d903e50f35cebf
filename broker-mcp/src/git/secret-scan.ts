import { Refusal } from "../refusal.js";
import type { Mirror } from "./mirror.js";
import { type Matcher, OVERLAP, secretMatcher, secretSearcher } from "./secret-search.js";

/**
 * What a push sends, as two `git log` streams over the new commits:
 * - PATCHES: every commit's raw header lines (author, committer, `encoding`, `mergetag`, signatures, any other) and
 *   message bytes as stored, then its added lines (combined diffs for merges, so an evil merge is seen too). Only
 *   added lines matter, so no context lines (-U0); external diff drivers and textconv off; binary files as text.
 * - PATHS: every tree entry the commits add or change, folders (`-t`) included, so even an empty folder's name is
 *   seen. A separate process: git cannot show folders in a combined diff with patches.
 */
const COMMON = ["log", "--diff-merges=dense-combined", "--no-renames", "--no-notes", "--no-color", "--no-abbrev"];
const PATCHES = [...COMMON, "--format=raw", "--encoding=none", "-p", "-U0", "--text", "--no-ext-diff", "--no-textconv"];
const PATHS = [...COMMON, "--format=%x00%H", "--raw", "-t"];
/** People and messages as git shows them, re-encoded from the encoding a commit declares. */
const DECODED = ["log", "--no-notes", "--format=%x00%H%n%an <%ae>%n%cn <%ce>%n%B"];

const refuseSecret = (where: string, what: string) =>
  new Refusal(
    `${where} contains ${what}. Secrets must never be pushed: remove it from every new commit (rewrite them with \`git rebase -i\` or \`git reset --soft\` and commit again; \`git commit --amend --reset-author\` for an author or committer), then call push_branch again.`,
  );

const unplaced = () =>
  new Refusal(
    "Your new commits contain what looks like a secret (a token or key), but the broker could not tell where. Look through the new commits (`git log -p --format=raw` and `git log --raw -t`) for tokens in file contents, file names, messages and author or committer names, remove them, then call push_branch again.",
  );

/**
 * Every new commit's headers, message, paths and added lines (in any encoding git can tell, UTF-16 included) must
 * carry no token. A fast pass over each stream only asks whether anything looks like a secret; the precise pass,
 * which tells sent text from removed lines and names the commit, runs only on a stream where something does. A hit
 * the precise pass cannot place refuses the push too.
 */
export async function checkForSecrets(
  mirror: Mirror,
  range: string[],
  secrets: string[],
  held: string[] = [],
): Promise<void> {
  const search = secretSearcher(secrets, held);
  const [patches, paths] = await Promise.all([
    mentionsSecret(mirror, [...PATCHES, ...range], search),
    mentionsSecret(mirror, [...PATHS, ...range], search),
  ]);
  const decode = patches.hit || patches.declaresEncoding; // a hit stops the fast pass before it sees every header
  if (!patches.hit && !paths.hit && !decode) return;
  const match = secretMatcher(secrets, held);
  const found = await Promise.all([
    patches.hit ? placeSecret(mirror, [...PATCHES, ...range], match) : null,
    paths.hit ? placeSecret(mirror, [...PATHS, ...range], match) : null,
    decode ? decodedMessageSecret(mirror, range, match) : null,
  ]);
  const refusal = found.find((f) => f instanceof Refusal);
  if (refusal) throw refusal;
}

/** Whether the stream may contain a secret, and whether a commit declares an encoding (its message is re-encoded). */
async function mentionsSecret(mirror: Mirror, args: string[], search: (text: string) => boolean) {
  let carry = "";
  let hit = false;
  let declaresEncoding = false;
  await mirror
    .git(args, {
      onStdout: (chunk) => {
        const text = carry + chunk.toString("latin1");
        hit = search(text);
        declaresEncoding ||= /\nencoding /.test(text);
        carry = text.slice(-OVERLAP);
        return !hit;
      },
    })
    .catch((err) => {
      if (!hit) throw err;
    });
  return { hit, declaresEncoding };
}

/** What the precise pass makes of a stream: a refusal naming the place, or "only in removed text", or unplaced. */
export type Placed = Refusal | "removed" | null;

/** Where a line of a PATCHES or PATHS stream sits, for the precise pass. */
class StreamPlace {
  commit = "";
  private part: "header" | "message" | "diff" | "hunk" = "header";
  private field = "";
  private file = "";
  private columns = 1;

  /** Reads one line: null when it is sent to origin, "removed" when it only shows what the commit removes. */
  where(line: string): string | "removed" | null {
    const commit = /^(?:commit |\0)([0-9a-f]{40,64})/.exec(line);
    if (commit) {
      this.commit = commit[1]!.slice(0, 12);
      this.part = "header";
      return null;
    }
    if (line.startsWith(":")) return this.entry(line);
    if (this.part === "header") {
      if (line === "") this.part = "message";
      else if (!line.startsWith(" ")) this.field = line.split(" ")[0]!;
      return line === "" ? null : `The ${JSON.stringify(this.field)} header of commit ${this.commit}`;
    }
    if (line.startsWith("diff ")) {
      this.part = "diff";
      return "removed"; // both paths: the new one shows in the PATHS stream, the old one is origin's
    }
    if (this.part === "message") return `The message of commit ${this.commit}`;
    if (line.startsWith("@@")) {
      this.part = "hunk";
      this.columns = Math.max(1, (/^@+/.exec(line)?.[0].length ?? 2) - 1);
      return null;
    }
    if (this.part === "diff") return this.diffHeader(line);
    // Inside a hunk, an added line "++ x" reads "+++ x": only the columns tell what a line is.
    const prefix = line.slice(0, this.columns);
    if (!prefix.includes("+") || prefix.includes("-")) return "removed";
    return `Commit ${this.commit} adds a line to ${this.file} that`;
  }

  private diffHeader(line: string): string | "removed" {
    if (line.startsWith("--- ")) return "removed";
    if (line.startsWith("+++ ")) {
      this.file = Buffer.from(line.startsWith("+++ b/") ? line.slice(6) : line.slice(4), "latin1").toString("utf8");
      return `The name of a file or folder commit ${this.commit} adds or changes`;
    }
    return `The diff header of commit ${this.commit}`;
  }

  /** A raw entry `:modes shas status<TAB>path`; only a deletion's path is not sent. */
  private entry(line: string): string | "removed" {
    const status = line.slice(0, line.indexOf("\t")).split(" ").pop() ?? "";
    return /^D+$/.test(status) ? "removed" : `The name of a file or folder commit ${this.commit} adds or changes`;
  }
}

/** The precise pass over one stream, line by line (exported so a test sees it fail closed). */
export async function placeSecret(mirror: Mirror, args: string[], match: Matcher): Promise<Placed> {
  const place = new StreamPlace();
  let found: Placed = null;
  let rest = "";
  const onLine = (line: string) => {
    const where = place.where(line);
    const hit = match(line);
    if (!hit) return;
    if (where === "removed") found ??= "removed";
    else found = refuseSecret(where ?? `Commit ${place.commit}`, hit.what);
  };
  await mirror
    .git(args, {
      onStdout: (chunk) => {
        const lines = (rest + chunk.toString("latin1")).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
          onLine(line);
          if (found instanceof Refusal) return false;
        }
        return true;
      },
    })
    .catch((err) => {
      if (!(found instanceof Refusal)) throw err;
    });
  if (!((found as Placed) instanceof Refusal) && rest) onLine(rest);
  // The fast pass saw something here: if it is not in removed text, refuse even without a place.
  return (found as Placed) ?? unplaced();
}

/** Commits as git decodes them from a declared encoding (UTF-7, EBCDIC, …), where the raw bytes hid the token. */
async function decodedMessageSecret(mirror: Mirror, range: string[], match: Matcher): Promise<Placed> {
  const { stdout } = await mirror.git([...DECODED, ...range]);
  for (const entry of stdout.split("\0").filter(Boolean)) {
    const hit = match(entry);
    if (hit) return refuseSecret(`The author, committer or message of commit ${entry.slice(0, 12)}`, hit.what);
  }
  return null;
}
