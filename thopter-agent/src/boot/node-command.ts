import { extname } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * argv that runs one of this runtime's scripts with node. A checkout runs the TypeScript sources (through tsx, with
 * the workspace's `source` condition); the image runs the built JavaScript. The tsx loader is given by absolute
 * path, because hooks run from the repository's directory, where `tsx` would not resolve.
 */
export function nodeCommand(scriptUrl: string): string[] {
  const script = fileURLToPath(scriptUrl);
  if (extname(script) !== ".ts") return [process.execPath, script];
  return [
    process.execPath,
    "--conditions=thopter-source",
    "--import",
    fileURLToPath(import.meta.resolve("tsx")),
    script,
  ];
}

/**
 * What the environment of a node child run as root must hold: tsx (a checkout runs the sources) with no compile
 * cache, since tsx keeps it in `$TMPDIR/tsx-<uid>`, trusts whatever is there, and anyone can make that folder first.
 */
export const ROOT_NODE_ENV = { TSX_DISABLE_CACHE: "1" } as const;

/** This package's script `relative` to src/ (e.g. `observer/hook`), as a file URL with the running build's extension. */
export function ownScript(relative: string): string {
  const ext = extname(fileURLToPath(import.meta.url));
  return new URL(`../${relative}${ext}`, import.meta.url).href;
}

/** Single-quotes one word for a POSIX shell (hook commands are run by a shell). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
