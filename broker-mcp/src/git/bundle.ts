import { PassThrough, Transform, type TransformCallback } from "node:stream";
import type { AgentIdentity } from "../config.js";
import { Refusal } from "../refusal.js";
import { agentGitEnv } from "./env.js";
import { isSha, type Mirror } from "./mirror.js";
import { GitError, runGit } from "./run.js";

export interface AgentBundleOptions {
  agent: AgentIdentity;
  workspace: string;
  mirror: Mirror;
  /** Commits the mirror has names for: the bundle need not carry them. Awaited once git has started. */
  tips: Promise<string[]>;
  maxBytes: number;
  timeoutMs: number;
}

/** HEAD adds nothing to what the mirror has: push the commit as it is, no bundle needed. */
export class NothingNew extends Refusal {}

type AgentRepo = Pick<AgentBundleOptions, "agent" | "workspace" | "timeoutMs">;

function asAgent(opts: AgentRepo) {
  return { env: agentGitEnv(opts.agent), uid: opts.agent.uid, gid: opts.agent.gid, timeoutMs: opts.timeoutMs };
}

const NO_COMMIT = "Your repository's HEAD is not a commit. Check out your work branch and commit.";

/** The commit the agent's `HEAD` names, read as the agent. Untrusted: only ever used as a name to look up. */
export async function agentHead(opts: AgentRepo): Promise<string> {
  try {
    const { stdout } = await runGit(["-C", opts.workspace, "rev-parse", "--verify", "HEAD"], asAgent(opts));
    const sha = stdout.trim();
    if (!isSha(sha)) throw new Refusal(NO_COMMIT);
    return sha;
  } catch (err) {
    throw agentGitFailure(err);
  }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export const UNKNOWN_BASE =
  "Your commits build on history the broker does not know. Call update_from_origin, then `git fetch origin` and rebase or merge onto origin's branches, and push again.";
const UNREADABLE = "Your repository produced an unreadable bundle. Check that `git bundle create` works in it.";

/**
 * Splits a bundle stream: parses its text header (bytes from the agent: parsed strictly), then passes the pack that
 * follows through. Counts every byte and fails past `max`.
 */
class BundleSplitter extends Transform {
  head: string | null = null;
  parsed = false;
  bytes = 0;
  private pending = Buffer.alloc(0);

  constructor(private readonly max: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: string, done: TransformCallback): void {
    try {
      done(null, this.passOn(chunk));
    } catch (err) {
      done(err as Error);
    }
  }

  /** What to pass on of this chunk (nothing until the header is complete). */
  private passOn(chunk: Buffer): Buffer | undefined {
    this.bytes += chunk.length;
    if (this.bytes > this.max) throw new Error("bundle over the size limit");
    if (this.parsed) return chunk;
    this.pending = Buffer.concat([this.pending, chunk]);
    const end = this.pending.indexOf("\n\n");
    if (end < 0) {
      if (this.pending.length > 1024 * 1024) throw new Refusal(UNREADABLE);
      return undefined;
    }
    const lines = this.pending.subarray(0, end).toString("latin1").split("\n");
    if (!/^# v[23] git bundle$/.test(lines[0] ?? "")) throw new Refusal(UNREADABLE);
    // No HEAD line: git wrote the header and then refused (an empty bundle); its exit status says why.
    const head = lines.find((l) => l.endsWith(" HEAD"))?.split(" ")[0] ?? "";
    this.head = isSha(head) ? head : null;
    this.parsed = true;
    return this.pending.subarray(end + 2);
  }
}

/**
 * Moves the agent's new commits into the mirror without root ever running git in the agent's repository:
 *
 * - as the agent (its uid/gid, its environment): `git bundle create -` of `HEAD` minus what the mirror has;
 *   whatever the agent planted in its repository runs, if at all, with the agent's own rights;
 * - as root, in the mirror only: the bundle's pack streams, as it is produced, into `index-pack --strict` (every
 *   object fsck-checked and every object it links to present, as GitHub checks pushes), cut off at `maxBytes`.
 *
 * Both processes start while `tips` is still being read, so their start-up overlaps it. Returns the bundle's
 * `HEAD`: its objects are in the mirror but nothing names them yet, and `inspectPush` checks that everything it
 * reaches is present. Throws `NothingNew` when HEAD adds nothing to the mirror.
 */
export async function receiveAgentBundle(opts: AgentBundleOptions): Promise<string> {
  const split = new BundleSplitter(opts.maxBytes);
  let splitError: Error | null = null;
  split.on("error", (err) => {
    splitError = err;
  });
  const revs = new PassThrough();
  // The bundle only crosses to the mirror on this machine: fast compression (zlib level 1) and no delta search
  // keep it cheap; the push from the mirror searches for deltas against what origin has, as any push does. Only
  // tips the agent's clone has can be excluded: --ignore-missing drops the others instead of failing.
  const fast = ["-c", "pack.compression=1", "-c", "pack.window=0"];
  const bundling = runGit(["-C", opts.workspace, ...fast, "bundle", "create", "-", "--ignore-missing", "--stdin"], {
    ...asAgent(opts),
    stdin: revs,
    stdout: split,
  });
  const indexing = opts.mirror.git(["index-pack", "--stdin", "--fix-thin", "--strict"], { stdin: split });
  // Settled from the start: either may fail while the tips are still being read.
  const outcome = Promise.allSettled([bundling, indexing]);
  const tips = await opts.tips.catch((err: Error) => {
    revs.destroy(err); // stops the bundle, and with it the indexing
    return null;
  });
  if (tips) revs.end(`${["HEAD", ...tips.map((sha) => `^${sha}`)].join("\n")}\n`);
  const [bundled, indexed] = await outcome;
  if (!tips) await opts.tips;
  // git may exit 0 before the splitter reaches the limit (the pipe buffers its tail): the cut-off is what failed.
  if (split.bytes > opts.maxBytes) throw tooLarge(opts.maxBytes);
  if (splitError) throw splitError;
  if (bundled.status === "rejected") throw agentGitFailure(bundled.reason);
  // No HEAD line: git wrote the header and then refused; its exit status said why, or HEAD is not a commit.
  if (!split.head) throw new Refusal(NO_COMMIT);
  if (indexed.status === "rejected") throw indexFailure(indexed.reason);
  return split.head;
}

function tooLarge(maxBytes: number): Refusal {
  return new Refusal(
    `The push is larger than the limit of ${mb(maxBytes)}. Remove large or generated files from your new commits (and add them to .gitignore), then call push_branch again.`,
  );
}

function indexFailure(err: unknown): Error {
  if (!(err instanceof GitError)) return err as Error;
  if (/fsck|error in (tree|commit|tag|blob)/i.test(err.stderr)) {
    return new Refusal(
      `Your commits contain objects git itself rejects (${err.stderr.trim().slice(-300)}). Recreate them with ordinary git commands, then push again.`,
    );
  }
  return new Refusal(UNKNOWN_BASE);
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
