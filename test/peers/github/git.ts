import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

/**
 * The peer's real git repositories: one bare repository per GitHub repository under the peer's root, served by
 * `git http-backend` (git-http.ts). A pre-receive hook enforces the branch rule GitHub rulesets would.
 */

const run = promisify(execFile);

/** Environment for every git the peer runs: no user or system config can change its behaviour. */
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_TERMINAL_PROMPT: "0" };

export async function git(args: string[], gitDir: string): Promise<string> {
  const { stdout } = await run("git", [`--git-dir=${gitDir}`, ...args], {
    env: GIT_ENV,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** `git` that answers undefined instead of throwing (for "does this ref exist"). */
async function gitMaybe(args: string[], gitDir: string): Promise<string | undefined> {
  try {
    return await git(args, gitDir);
  } catch {
    return undefined;
  }
}

export interface BranchRule {
  /** The login whose pushes are restricted (REMOTE_USER as the git bridge sets it); App bots are restricted too. */
  restrictedUser: string;
  /** Ref prefix that user may create, update and delete. */
  allowedPrefix: string;
}

/** The hook prints what GitHub prints for a ruleset violation (GH013), so pushers see a familiar refusal. */
function preReceiveHook(fullName: string, rule: BranchRule): string {
  return `#!/bin/sh
# GitHub peer branch rule for ${fullName}: ${rule.restrictedUser} and App bots may only write ${rule.allowedPrefix}*.
case "$REMOTE_USER" in '${rule.restrictedUser}'|*'[bot]') ;; *) exit 0 ;; esac
status=0
while read -r old new ref; do
  case "$ref" in
    '${rule.allowedPrefix}'*) ;;
    *)
      echo "error: GH013: Repository rule violations found for $ref." >&2
      echo "- Cannot update this protected ref: $REMOTE_USER may only push to ${rule.allowedPrefix}*." >&2
      status=1
      ;;
  esac
done
exit $status
`;
}

export interface SeedCommit {
  files: Record<string, string>;
  branch: string;
  author: { name: string; email: string };
}

/** Creates a bare repository whose `branch` holds one commit of `files`, with the branch-rule hook installed. */
export async function createBareRepo(
  gitDir: string,
  fullName: string,
  seed: SeedCommit,
  rule: BranchRule,
): Promise<void> {
  await mkdir(dirname(gitDir), { recursive: true });
  await run("git", ["init", "--quiet", "--bare", `--initial-branch=${seed.branch}`, gitDir], { env: GIT_ENV });
  // Pushes over HTTP need receive-pack enabled; http.receivepack also needs an authenticated REMOTE_USER.
  await git(["config", "http.receivepack", "true"], gitDir);
  const hook = join(gitDir, "hooks", "pre-receive");
  await writeFile(hook, preReceiveHook(fullName, rule));
  await chmod(hook, 0o755);

  const work = await mkdtemp(join(dirname(gitDir), ".seed-"));
  try {
    for (const [path, content] of Object.entries(seed.files)) {
      if (path.startsWith("/") || path.split("/").includes("..")) throw new Error(`GitHub peer: bad file path ${path}`);
      await mkdir(dirname(join(work, path)), { recursive: true });
      await writeFile(join(work, path), content);
    }
    const env = {
      ...GIT_ENV,
      GIT_INDEX_FILE: join(work, ".git-index"),
      GIT_AUTHOR_NAME: seed.author.name,
      GIT_AUTHOR_EMAIL: seed.author.email,
      GIT_COMMITTER_NAME: seed.author.name,
      GIT_COMMITTER_EMAIL: seed.author.email,
    };
    const inWork = ["--git-dir", gitDir, "--work-tree", work];
    await run("git", [...inWork, "add", "--all", "--", ...Object.keys(seed.files)], { env });
    await run("git", [...inWork, "commit", "--quiet", "--allow-empty", "-m", "Initial commit"], { env });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export async function resolveRef(gitDir: string, ref: string): Promise<string | undefined> {
  const out = await gitMaybe(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], gitDir);
  return out?.trim() || undefined;
}

export async function listBranches(gitDir: string): Promise<string[]> {
  const out = await git(["for-each-ref", "--format=%(refname:short)", "refs/heads/"], gitDir);
  return out.split("\n").filter(Boolean).sort();
}

/** A file's content at `ref`, or undefined when the ref or the path does not exist. */
export async function readFileAt(gitDir: string, ref: string, path: string): Promise<string | undefined> {
  return gitMaybe(["show", `${ref}:${path}`], gitDir);
}

/** Every object the repository holds, reachable or not: what a push has delivered, even one refused later. */
export async function allObjects(gitDir: string): Promise<string[]> {
  const out = await git(["cat-file", "--batch-all-objects", "--batch-check=%(objectname)"], gitDir);
  return out.split("\n").filter(Boolean).sort();
}

export interface LogEntry {
  sha: string;
  subject: string;
  authorName: string;
  authorEmail: string;
}

/** Commits reachable from `ref`, newest first. */
export async function logOf(gitDir: string, ref: string): Promise<LogEntry[]> {
  const out = await git(["log", "--format=%H%x00%s%x00%an%x00%ae", ref, "--"], gitDir);
  return out
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [sha = "", subject = "", authorName = "", authorEmail = ""] = line.split("\0");
      return { sha, subject, authorName, authorEmail };
    });
}

export interface CommitEntry {
  sha: string;
  parents: string[];
  message: string;
  authorName: string;
  authorEmail: string;
  date: string;
  tree: string;
}

/** The commits on `head` that `base` lacks, oldest first (what a pull request lists), at most `limit`. */
export async function commitsBetween(gitDir: string, base: string, head: string, limit: number) {
  const format = "%H%x00%P%x00%T%x00%an%x00%ae%x00%aI%x00%B%x01";
  const out = await git(["log", "--reverse", `--format=${format}`, `${base}..${head}`, "--"], gitDir);
  const entries = out
    .split("\x01")
    .map((chunk) => chunk.replace(/^\n/, ""))
    .filter(Boolean)
    .map((chunk): CommitEntry => {
      const [sha = "", parents = "", tree = "", authorName = "", authorEmail = "", date = "", message = ""] =
        chunk.split("\0");
      return {
        sha,
        parents: parents.split(" ").filter(Boolean),
        tree,
        authorName,
        authorEmail,
        date,
        message: message.trimEnd(),
      };
    });
  return entries.slice(0, limit);
}

/** What a pull request from `head` into `base` contains: commits ahead and diff size. */
export async function compare(gitDir: string, base: string, head: string) {
  const commits = Number((await git(["rev-list", "--count", `${base}..${head}`], gitDir)).trim());
  const numstat = await git(["diff", "--numstat", `${base}...${head}`], gitDir);
  let additions = 0;
  let deletions = 0;
  let changedFiles = 0;
  for (const line of numstat.split("\n").filter(Boolean)) {
    const [add, del] = line.split("\t");
    additions += Number(add) || 0;
    deletions += Number(del) || 0;
    changedFiles += 1;
  }
  return { commits, additions, deletions, changedFiles };
}

/** The unified diff GitHub shows for `base...head` (changes on head since the merge base). */
export function diffOf(gitDir: string, base: string, head: string): Promise<string> {
  return git(["diff", `${base}...${head}`, "--"], gitDir);
}

/** Every file path at `ref`, sorted. */
export async function filesAt(gitDir: string, ref: string): Promise<string[]> {
  const out = await git(["ls-tree", "-r", "--name-only", ref, "--"], gitDir);
  return out.split("\n").filter(Boolean).sort();
}
