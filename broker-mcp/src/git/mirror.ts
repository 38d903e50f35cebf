import { chmodSync, existsSync, lstatSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { rootGitEnv } from "./env.js";
import { type GitOptions, type GitResult, runGit } from "./run.js";

export interface MirrorOptions {
  path: string;
  /** Origin's clone URL; it carries no credentials. */
  cloneUrl: string;
  /** The current GitHub token (it may be renewed between commands). */
  token: () => string;
  /** Root-owned empty directory used as HOME for git, so no user's dotfiles are read. */
  home: string;
  timeoutMs: number;
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export interface Tips {
  /** Ref name → the commit it names. */
  refs: Map<string, string>;
  /** The distinct commits among them. */
  commits: string[];
}

/**
 * The one hook the broker's git ever runs: before a push sends anything, it waits for the broker's word on file
 * descriptor 3 ("go" once every check passed). Anything else, or the broker closing it, abandons the push.
 */
const PRE_PUSH = `#!/bin/sh
# Written by the thopter broker: the push waits here until the broker's checks have passed.
read -r verdict <&3 && [ "$verdict" = go ]
`;

export function isSha(value: string): boolean {
  return SHA.test(value);
}

/**
 * The broker's root-owned bare copy of origin. Every git command here runs as root, so it only ever touches this
 * repository (`--git-dir`), whose config the broker alone writes. The agent may read it (to `git fetch`), never write.
 */
export class Mirror {
  private readonly env: Record<string, string>;
  private tipsRead: Promise<Tips> | null = null;

  constructor(readonly opts: MirrorOptions) {
    this.env = rootGitEnv(opts.home);
  }

  get path(): string {
    return this.opts.path;
  }

  /** Root-only directory holding the pre-push gate; only `git push` from the mirror is pointed at it. */
  get hooksPath(): string {
    return join(this.opts.home, "hooks");
  }

  /**
   * git in the mirror; `authenticated` only for the commands that talk to origin. Those (fetch, push) are also the
   * only ones that change the mirror's refs: the tips are read again once each has finished.
   */
  git(args: string[], extra: Partial<GitOptions> & { authenticated?: boolean } = {}): Promise<GitResult> {
    const { authenticated, ...rest } = extra;
    const run = runGit(["--git-dir", this.opts.path, ...args], {
      env: authenticated ? rootGitEnv(this.opts.home, this.opts.token()) : this.env,
      timeoutMs: this.opts.timeoutMs,
      ...rest,
    });
    if (!authenticated) return run;
    return run.finally(() => this.rereadTips());
  }

  /** Clones origin at boot (or refreshes an existing mirror after a broker restart). */
  async init(): Promise<void> {
    mkdirSync(this.hooksPath, { recursive: true, mode: 0o700 });
    // root runs the hook: nobody else may be able to replace it, or any directory above it.
    ownedPrivately(this.hooksPath);
    writeFileSync(join(this.hooksPath, "pre-push"), PRE_PUSH, { mode: 0o700 });
    chmodSync(join(this.hooksPath, "pre-push"), 0o700);
    if (!existsSync(this.opts.path)) {
      mkdirSync(dirname(this.opts.path), { recursive: true, mode: 0o755 });
      await runGit(["clone", "--bare", "--no-hardlinks", "--", this.opts.cloneUrl, this.opts.path], {
        env: rootGitEnv(this.opts.home, this.opts.token()),
        timeoutMs: this.opts.timeoutMs,
      });
    }
    const st = lstatSync(this.opts.path);
    if (!st.isDirectory() || st.uid !== process.getuid?.()) {
      throw new Error(`mirror ${this.opts.path} must be a directory owned by the broker's user`);
    }
    chmodSync(this.opts.path, 0o755);
    await this.git(["config", "remote.origin.url", this.opts.cloneUrl]);
    await this.git(["config", "--replace-all", "remote.origin.fetch", "+refs/heads/*:refs/heads/*"]);
    await this.git(["config", "--add", "remote.origin.fetch", "+refs/tags/*:refs/tags/*"]);
    await this.fetchOrigin();
  }

  /** Makes the mirror's branches and tags exactly origin's. */
  async fetchOrigin(): Promise<void> {
    await this.git(["fetch", "--prune", "--no-write-fetch-head", "origin"], { authenticated: true });
  }

  /**
   * The commit each branch and tag of the mirror names (annotated tags peeled; tags of other objects left out):
   * what origin already has, so what a bundle from the agent need not contain again. Read in the background after
   * each fetch or push, so a push_branch call finds them ready.
   */
  tips(): Promise<Tips> {
    if (!this.tipsRead) {
      const read = this.readTips();
      this.tipsRead = read;
      // A failed read is reported to its callers; the next call reads again.
      read.catch(() => {
        if (this.tipsRead === read) this.tipsRead = null;
      });
    }
    return this.tipsRead;
  }

  private rereadTips(): void {
    this.tipsRead = null;
    // Soon, but off the path of the call that fetched or pushed (its answer goes out first).
    setTimeout(() => this.tips().catch(() => {}), 50).unref();
  }

  private async readTips(): Promise<Tips> {
    const format = "--format=%(refname) %(objecttype) %(objectname) %(*objecttype) %(*objectname)";
    const { stdout } = await this.git(["for-each-ref", format, "refs/heads", "refs/tags"]);
    const refs = new Map<string, string>();
    for (const line of stdout.split("\n")) {
      const [ref, type, sha, peeledType, peeled] = line.split(" ");
      if (type === "commit" && isSha(sha ?? "")) refs.set(ref!, sha!);
      else if (peeledType === "commit" && isSha(peeled ?? "")) refs.set(ref!, peeled!);
    }
    return { refs, commits: [...new Set(refs.values())] };
  }
}

function ownedPrivately(dir: string): void {
  const me = process.getuid?.();
  for (let d = dir; ; d = dirname(d)) {
    const st = lstatSync(d);
    const owner = st.uid === me || st.uid === 0;
    // Writable by others is fine only with the sticky bit (as /tmp): then they cannot rename what is ours.
    const othersWrite = (st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0;
    if (!st.isDirectory() || !owner || othersWrite) {
      throw new Error(`${d} must be a directory owned by the broker's user (or root) that no one else can write`);
    }
    if (d === dirname(d)) return;
  }
}
