import { spawn } from "node:child_process";
import { Readable, type Writable } from "node:stream";

export const SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface GitOptions {
  /** The complete environment of the child: nothing is inherited from the broker. */
  env: Record<string, string>;
  timeoutMs: number;
  uid?: number;
  gid?: number;
  stdin?: string | Readable;
  /** Where stdout goes, with backpressure, instead of being collected; the child dies if it errors. */
  stdout?: Writable;
  /** Receives stdout as it arrives instead of collecting it; return false to stop the child early. */
  onStdout?: (chunk: Buffer) => boolean | undefined;
  /**
   * Readable by the child, and by what it runs (git passes it on), on file descriptor 3: a channel from the broker
   * to a hook it wrote itself.
   */
  fd3?: Readable;
  /** Exit codes that are answers rather than failures (e.g. 1 from `merge-base --is-ancestor`). */
  okCodes?: number[];
}

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args[0] ?? ""} failed (${code === null ? "killed" : `exit ${code}`}): ${stderr.trim().slice(-2_000)}`);
  }
}

const MAX_COLLECTED = 64 * 1024 * 1024;

/**
 * Runs git with an explicit environment, optional uid/gid and a timeout. `cwd` is always `/`: callers name the
 * repository with `-C` or `--git-dir` so that, when the child drops privileges, the chdir happens as that user.
 */
export function runGit(args: string[], opts: GitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, {
      cwd: "/",
      env: opts.env,
      uid: opts.uid,
      gid: opts.gid,
      stdio: opts.fd3 ? ["pipe", "pipe", "pipe", "pipe"] : ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = "";
    let stopped = false;
    const timer = setTimeout(() => {
      stopped = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs);
    if (opts.stdout) {
      opts.stdout.on("error", () => {
        stopped = true;
        child.kill("SIGKILL");
      });
      child.stdout.pipe(opts.stdout);
    } else
      child.stdout.on("data", (chunk: Buffer) => {
        if (opts.onStdout) {
          if (opts.onStdout(chunk) === false && !stopped) {
            stopped = true;
            child.kill("SIGKILL");
          }
          return;
        }
        outBytes += chunk.length;
        if (outBytes <= MAX_COLLECTED) out.push(chunk);
      });
    child.stderr.on("data", (chunk: Buffer) => {
      if (err.length < 64_000) err += chunk.toString("utf8");
    });
    child.stdin.on("error", () => {}); // the child may exit before reading all of stdin
    if (opts.stdin instanceof Readable) opts.stdin.on("error", () => child.kill("SIGKILL")).pipe(child.stdin);
    else child.stdin.end(opts.stdin ?? "");
    const fd3 = child.stdio[3] as Writable | undefined;
    if (opts.fd3 && fd3) {
      fd3.on("error", () => {}); // the child may exit without reading it
      opts.fd3.pipe(fd3);
    }
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const result = { code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: err };
      if (code === 0 || (code !== null && opts.okCodes?.includes(code))) resolve(result);
      else reject(new GitError(args, stopped ? null : code, err));
    });
  });
}
