import { readFileSync } from "node:fs";

export interface Instruction {
  keyword: string;
  /** The rest of the instruction, continuation lines joined. */
  args: string;
}

/** A Dockerfile's instructions in order: comments and blank lines dropped, `\` continuations joined. */
export function readDockerfile(path: string): Instruction[] {
  const logical = readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => !/^\s*#/.test(line))
    .join("\n")
    .replace(/\\\n/g, " ");
  return logical
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(" ") };
    });
}

/** The sources of every `COPY` from the build context (not `--from` another stage). */
export function contextCopies(instructions: readonly Instruction[]): string[] {
  return instructions
    .filter((i) => i.keyword === "COPY" && !/--from=/.test(i.args))
    .flatMap((i) => {
      const words = i.args.split(/\s+/).filter((w) => !w.startsWith("--"));
      return words.slice(0, -1);
    });
}

/** `ENV A=1 B=2` instructions as one map. */
export function envOf(instructions: readonly Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of instructions.filter((i) => i.keyword === "ENV")) {
    for (const [, key, value] of i.args.matchAll(/(\w+)=(\S+)/g)) env[key!] = value!;
  }
  return env;
}
