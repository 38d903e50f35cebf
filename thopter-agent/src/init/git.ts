import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Whose git: the agent's HOME (its ~/.gitconfig) and the PATH init's entry point was given. */
export interface GitUser {
  home: string;
  path: string;
}

/** git as the agent with its own HOME, never prompting; the error names the command. */
export async function git(user: GitUser, args: string[], cwd?: string): Promise<string> {
  try {
    const { stdout } = await run("git", args, {
      cwd,
      env: { PATH: user.path, HOME: user.home, LANG: "C.UTF-8", GIT_TERMINAL_PROMPT: "0" },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 10 * 60_000,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`git ${args[0]} failed: ${(e.stderr || e.message).trim().split("\n").at(-1)}`);
  }
}

/** Exit code of a git command that answers with its code (e.g. `rev-parse --verify`), without throwing. */
export async function gitSucceeds(user: GitUser, args: string[], cwd?: string): Promise<boolean> {
  return git(user, args, cwd).then(
    () => true,
    () => false,
  );
}
