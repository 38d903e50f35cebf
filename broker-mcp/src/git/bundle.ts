import { closeSync, createReadStream, openSync, readSync, writeSync } from "node:fs";
import type { AgentIdentity } from "../config.js";
import { Refusal } from "../refusal.js";
import { agentGitEnv } from "./env.js";
import { isSha, type Mirror } from "./mirror.js";
import { GitError, runGit } from "./run.js";

export interface AgentBundleOptions {
  agent: AgentIdentity;
  workspace: string;
  mirror: Mirror;
  /** Root-owned file the bundle is written to (the agent never sees its path). */
  dest: string;
  maxBytes: number;
  timeoutMs: number;
}

export const INCOMING_REF = "refs/broker/incoming";

/** HEAD adds nothing to what the mirror has: push the commit as it is, no bundle needed. */
export class NothingNew extends Refusal {}

type AgentRepo = Pick<AgentBundleOptions, "agent" | "workspace" | "timeoutMs">;

function asAgent(opts: AgentRepo) {
  return { env: agentGitEnv(opts.agent), uid: opts.agent.uid, gid: opts.agent.gid, timeoutMs: opts.timeoutMs };
}

/** The commit the agent's `HEAD` names, read as the agent. Untrusted: only ever used as a name to look up. */
export async function agentHead(opts: AgentRepo): Promise<string> {
  try {
    const { stdout } = await runGit(["-C", opts.workspace, "rev-parse", "--verify", "HEAD^{commit}"], asAgent(opts));
    const sha = stdout.trim();
    if (!isSha(sha))
      throw new Refusal("Your repository's HEAD is not a commit. Check out your work branch and commit.");
    return sha;
  } catch (err) {
    throw agentGitFailure(err);
  }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * As the agent (its uid/gid, its environment, never root): bundles `HEAD` minus what the mirror already has.
 * Whatever the agent planted in its repository runs, if at all, with the agent's own rights. The bundle streams
 * through a pipe into a root-owned file and is cut off at `maxBytes`.
 */
export async function createAgentBundle(opts: AgentBundleOptions): Promise<void> {
  const agent = asAgent(opts);
  const repo = ["-C", opts.workspace];
  const tips = await opts.mirror.tips();
  // Only tips the agent's clone has can be excluded; naming an unknown commit would fail the bundle.
  const known = tips.length
    ? (await runGit([...repo, "cat-file", "--batch-check"], { ...agent, stdin: `${tips.join("\n")}\n` })).stdout
        .split("\n")
        .filter((line) => / commit \d+$/.test(line))
        .map((line) => line.split(" ")[0]!)
    : [];
  const fd = openSync(opts.dest, "w", 0o600);
  let written = 0;
  try {
    // The bundle only crosses to the mirror on this machine: fast compression (zlib level 1) keeps it cheap.
    await runGit([...repo, "-c", "pack.compression=1", "bundle", "create", "-", "--stdin"], {
      ...agent,
      stdin: `${["HEAD", ...known.map((sha) => `^${sha}`)].join("\n")}\n`,
      onStdout: (chunk) => {
        written += chunk.length;
        if (written > opts.maxBytes) return false;
        writeSync(fd, chunk);
        return true;
      },
    });
  } catch (err) {
    if (written > opts.maxBytes) {
      throw new Refusal(
        `The push is larger than the limit of ${mb(opts.maxBytes)}. Remove large or generated files from your new commits (and add them to .gitignore), then call push_branch again.`,
      );
    }
    throw agentGitFailure(err);
  } finally {
    closeSync(fd);
  }
}

/** Errors from git run as the agent concern the agent's own repository: tell the model what to look at. */
function agentGitFailure(err: unknown): Error {
  if (err instanceof Refusal || !(err instanceof GitError)) return err as Error;
  if (/empty bundle/.test(err.stderr)) return new NothingNew("Nothing new to push.");
  if (/(bad revision|unknown revision|ambiguous argument|Needed a single revision)/.test(err.stderr)) {
    return new Refusal("Your repository has no commit on HEAD yet. Commit your work first, then call push_branch.");
  }
  return new Refusal(
    `Could not read your repository's HEAD: ${err.stderr.trim().slice(-500)}. Make sure the workspace is a valid git repository with HEAD on a commit.`,
  );
}

const UNKNOWN_BASE =
  "Your commits build on history the broker does not know. Call update_from_origin, then `git fetch origin` and rebase or merge onto origin's branches, and push again.";

interface BundleHeader {
  head: string;
  /** Byte offset of the pack that follows the header. */
  packStart: number;
}

/** The bundle's text header (root wrote the file, but its bytes come from the agent: parsed strictly). */
function readHeader(file: string): BundleHeader {
  const fd = openSync(file, "r");
  const buf = Buffer.alloc(1024 * 1024);
  const n = readSync(fd, buf, 0, buf.length, 0);
  closeSync(fd);
  const text = buf.subarray(0, n).toString("latin1");
  const end = text.indexOf("\n\n");
  const lines = text.slice(0, Math.max(end, 0)).split("\n");
  if (end < 0 || !/^# v[23] git bundle$/.test(lines[0] ?? "")) {
    throw new Refusal("Your repository produced an unreadable bundle. Check that `git bundle create` works in it.");
  }
  const head = lines.find((l) => l.endsWith(" HEAD"))?.split(" ")[0] ?? "";
  if (!isSha(head)) throw new Refusal("Your repository's HEAD is not a commit. Check out your work branch and commit.");
  return { head, packStart: end + 2 };
}

/**
 * As root, in the mirror only: indexes the bundle's pack with `index-pack --strict` (every object fsck-checked, as
 * GitHub checks pushes; `git fetch` from a bundle does not in this git), checks that everything reachable from its
 * `HEAD` is present (its prerequisites are commits the mirror has), and names it `INCOMING_REF`. Returns the sha.
 */
export async function fetchBundle(mirror: Mirror, file: string): Promise<string> {
  const { head, packStart } = readHeader(file);
  try {
    await mirror.git(["index-pack", "--stdin", "--fix-thin", "--strict"], {
      stdin: createReadStream(file, { start: packStart }),
    });
  } catch (err) {
    if (!(err instanceof GitError)) throw err;
    if (/fsck|error in (tree|commit|tag|blob)/i.test(err.stderr)) {
      throw new Refusal(
        `Your commits contain objects git itself rejects (${err.stderr.trim().slice(-300)}). Recreate them with ordinary git commands, then push again.`,
      );
    }
    throw new Refusal(UNKNOWN_BASE);
  }
  try {
    await mirror.git(["rev-list", "--objects", "--quiet", head, "--not", "--all"]);
  } catch {
    throw new Refusal(UNKNOWN_BASE);
  }
  await mirror.updateRefs({ [INCOMING_REF]: head });
  return head;
}
