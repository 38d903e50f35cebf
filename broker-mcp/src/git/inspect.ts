import { Refusal } from "../refusal.js";
import { UNKNOWN_BASE } from "./bundle.js";
import type { Mirror } from "./mirror.js";
import { GitError } from "./run.js";
import { checkForSecrets } from "./secret-scan.js";

export interface InspectOptions {
  /** The commit about to be pushed, already in the mirror. */
  sha: string;
  /** Commits origin already has: only what lies between them and `sha` is new. */
  known: string[];
  maxFileBytes: number;
  /** Exact secret values (the coder token) to look for besides the well-known shapes. */
  secrets: string[];
  /** The thopter's other secrets (model credential, marked `.env.thopters` values). */
  heldSecrets?: string[];
}

/**
 * Runs the checks on the new commits, concurrently; throws a Refusal naming the first problem and how to fix it.
 * What HEAD is comes first, then the walk over the new objects: when objects are missing, that is the problem.
 */
export async function inspectPush(mirror: Mirror, opts: InspectOptions): Promise<void> {
  const range = [opts.sha, "--not", ...opts.known];
  const checks = await Promise.allSettled([
    checkIsCommit(mirror, opts.sha),
    checkObjects(mirror, range, opts.maxFileBytes),
    checkForSecrets(mirror, range, opts.secrets, opts.heldSecrets),
  ]);
  for (const check of checks) if (check.status === "rejected") throw check.reason;
}

const WHAT = { tag: "an annotated tag", tree: "a tree (a folder's listing)", blob: "a blob (a file's content)" };

/** Only a commit can be a branch's tip: origin refuses anything else, with an error the model cannot act on. */
async function checkIsCommit(mirror: Mirror, sha: string): Promise<void> {
  let type: string;
  try {
    type = (await mirror.git(["cat-file", "-t", sha])).stdout.trim();
  } catch (err) {
    throw err instanceof GitError ? new Refusal(UNKNOWN_BASE) : err;
  }
  if (type === "commit") return;
  const what = WHAT[type as keyof typeof WHAT] ?? `a ${type}`;
  const peel = type === "tag" ? " (for this tag, `git checkout --detach HEAD^{commit}`)" : "";
  throw new Refusal(
    `Your repository's HEAD is ${what} (${sha.slice(0, 12)}), not a commit; only a commit can be pushed to a branch. Check out your work branch or a commit${peel}, make sure \`git cat-file -t HEAD\` prints "commit", then call push_branch again.`,
  );
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
