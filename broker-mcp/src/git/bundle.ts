import { Transform, type TransformCallback } from "node:stream";
import type { AgentIdentity } from "../config.js";
import { Refusal } from "../refusal.js";
import { agentGitEnv } from "./env.js";
import { isSha, type Mirror } from "./mirror.js";
import { GitError, runGit } from "./run.js";

export interface AgentBundleOptions {
  agent: AgentIdentity;
  workspace: string;
  mirror: Mirror;
  /** Commits the mirror has names for: the bundle need not carry them. */
  tips: string[];
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

const UNKNOWN_BASE =
  "Your commits build on history the broker does not know. Call update_from_origin, then `git fetch origin` and rebase or merge onto origin's branches, and push again.";
const UNREADABLE = "Your repository produced an unreadable bundle. Check that `git bundle create` works in it.";

class TooLarge extends Error {}

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
    if (this.bytes > this.max) throw new TooLarge();
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
    this.emit("head", this.head);
    return this.pending.subarray(end + 2);
  }
}

/**
 * Moves the agent's new commits into the mirror without root ever running git in the agent's repository:
 *
 * - as the agent (its uid/gid, its environment): `git bundle create -` of `HEAD` minus what the mirror has;
 *   whatever the agent planted in its repository runs, if at all, with the agent's own rights;
 * - as root, in the mirror only: the bundle's pack streams, as it is produced, into `index-pack --strict` (every
 *   object fsck-checked, as GitHub checks pushes), cut off at `maxBytes`; then everything reachable from the
 *   bundle's `HEAD` must be present (its prerequisites are commits the mirror has), and it becomes `INCOMING_REF`.
 *
 * Returns the sha to push. Throws `NothingNew` when HEAD adds nothing to the mirror.
 */
export async function receiveAgentBundle(opts: AgentBundleOptions): Promise<string> {
  const agent = asAgent(opts);
  const repo = ["-C", opts.workspace];
  // Only tips the agent's clone has can be excluded; naming an unknown commit would fail the bundle.
  const known = opts.tips.length
    ? (await runGit([...repo, "cat-file", "--batch-check"], { ...agent, stdin: `${opts.tips.join("\n")}\n` })).stdout
        .split("\n")
        .filter((line) => / commit \d+$/.test(line))
        .map((line) => line.split(" ")[0]!)
    : [];
  const split = new BundleSplitter(opts.maxBytes);
  const tooLarge = () =>
    new Refusal(
      `The push is larger than the limit of ${mb(opts.maxBytes)}. Remove large or generated files from your new commits (and add them to .gitignore), then call push_branch again.`,
    );
  // The bundle only crosses to the mirror on this machine: fast compression (zlib level 1) keeps it cheap.
  const bundling = runGit([...repo, "-c", "pack.compression=1", "bundle", "create", "-", "--stdin"], {
    ...agent,
    stdin: `${["HEAD", ...known.map((sha) => `^${sha}`)].join("\n")}\n`,
    stdout: split,
  }).catch((err) => {
    throw split.bytes > opts.maxBytes ? tooLarge() : agentGitFailure(err);
  });
  const head = await new Promise<string | null>((resolve, reject) => {
    split.once("head", resolve);
    split.once("error", (err) => reject(err instanceof TooLarge ? tooLarge() : err));
    split.once("finish", () => resolve(split.head));
    bundling.catch(reject);
  }).catch(async (err) => {
    await bundling.catch(() => {});
    throw err;
  });
  if (!head) {
    split.resume(); // discard whatever follows, so git can finish and say why
    await bundling;
    throw new Refusal("Your repository's HEAD is not a commit. Check out your work branch and commit.");
  }
  const indexing = opts.mirror.git(["index-pack", "--stdin", "--fix-thin", "--strict"], { stdin: split });
  const [bundled, indexed] = await Promise.allSettled([bundling, indexing]);
  // git may exit 0 before the splitter reaches the limit (the pipe buffers its tail): the cut-off is what failed.
  if (split.bytes > opts.maxBytes) throw tooLarge();
  if (bundled.status === "rejected") throw bundled.reason;
  if (indexed.status === "rejected") {
    const err = indexed.reason;
    if (!(err instanceof GitError)) throw err;
    if (/fsck|error in (tree|commit|tag|blob)/i.test(err.stderr)) {
      throw new Refusal(
        `Your commits contain objects git itself rejects (${err.stderr.trim().slice(-300)}). Recreate them with ordinary git commands, then push again.`,
      );
    }
    throw new Refusal(UNKNOWN_BASE);
  }
  try {
    await opts.mirror.git(["rev-list", "--objects", "--quiet", head, "--not", "--all"]);
  } catch {
    throw new Refusal(UNKNOWN_BASE);
  }
  await opts.mirror.updateRefs({ [INCOMING_REF]: head });
  return head;
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
