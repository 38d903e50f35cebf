import { readdir } from "node:fs/promises";
import { NAME_PATTERN, type StartCommand } from "@thopter/protocol";

/** The names a command may choose from: prompt templates on disk and configured golden-claude profiles. */
export interface Catalog {
  prompts: string[];
  goldenClaudes: string[];
}

/** Prompt names are the `*.md` files of PROMPTS_DIR (read on each command, so new templates need no restart). */
export async function listPrompts(dir: string): Promise<string[]> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return files
    .filter((f) => f.endsWith(".md"))
    .map((f) => f.slice(0, -3))
    .filter((n) => NAME_PATTERN.test(n))
    .sort();
}

/** A refusal reason when the command names a prompt or golden claude that does not exist, else undefined. */
export function unknownName(command: StartCommand, catalog: Catalog): string | undefined {
  const problems: string[] = [];
  if (!catalog.prompts.includes(command.prompt)) problems.push(`there is no prompt \`${command.prompt}\``);
  if (!catalog.goldenClaudes.includes(command.gc)) problems.push(`there is no golden claude \`${command.gc}\``);
  return problems.length > 0 ? `${problems.join(" and ")}.` : undefined;
}
