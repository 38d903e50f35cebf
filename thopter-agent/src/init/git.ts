import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** git as the agent with its own HOME (its ~/.gitconfig), never prompting; the error names the command. */
export async function git(home: string, args: string[], cwd?: string): Promise<string> {
  try {
    const { stdout } = await run("git", args, {
      cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, LANG: "C.UTF-8", GIT_TERMINAL_PROMPT: "0" },
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
export async function gitSucceeds(home: string, args: string[], cwd?: string): Promise<boolean> {
  return git(home, args, cwd).then(
    () => true,
    () => false,
  );
}
