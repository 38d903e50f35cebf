import { spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The vendored real Claude Code transcripts (see test/fixtures/claude-transcripts/SOURCE.md). */
export const TRANSCRIPTS = join(import.meta.dirname, "../../fixtures/claude-transcripts");

/** Non-blank lines of every vendored real transcript. */
export function realLines(): string[] {
  return readdirSync(TRANSCRIPTS)
    .filter((f) => f.endsWith(".jsonl"))
    .flatMap((f) => readFileSync(join(TRANSCRIPTS, f), "utf8").split("\n"))
    .filter((l) => l.trim() !== "");
}

/** Tool, message and entry ids in a line; suffixing them gives each copy of a line fresh ids. */
const IDS = /\b(toolu_[A-Za-z0-9]+|msg_[A-Za-z0-9]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/g;

/**
 * Writes a transcript of at least `bytes` by repeating the real lines, each round with fresh ids (so tool results
 * still pair with their own calls). Returns the number of lines written.
 */
export async function writeBigTranscript(file: string, bytes: number): Promise<number> {
  const lines = realLines();
  const out = createWriteStream(file);
  let written = 0;
  let count = 0;
  for (let round = 0; written < bytes; round++) {
    const chunk = `${lines.map((l) => l.replace(IDS, `$1-${round}`)).join("\n")}\n`;
    written += Buffer.byteLength(chunk);
    count += lines.length;
    if (!out.write(chunk)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return count;
}

/** Line types the newest vendored session schema lists (CLI 2.1.97+); newer CLIs write more. */
export function schemaLineTypes(): Set<string> {
  const schema = JSON.parse(readFileSync(join(TRANSCRIPTS, "claude-code-session.schema.v2.1.144.json"), "utf8"));
  return new Set(
    schema.oneOf.map(
      (ref: { $ref: string }) => schema.$defs[ref.$ref.split("/").pop() as string].properties.type.const,
    ),
  );
}

/**
 * Runs `work` while a process the agent (`thopter`) left behind swaps `<dir>/flip.jsonl` between a link to `target`
 * and its own file holding `line`, as fast as it can; the process is killed afterwards.
 */
export async function whileAgentSwapsLink<T>(dir: string, target: string, line: string, work: () => Promise<T>) {
  const flipper = spawn(
    "runuser",
    [
      "-u",
      "thopter",
      "--",
      "sh",
      "-c",
      `cd '${dir}' && printf '%s\\n' '${line}' > flip.file && while :; do ln -sf '${target}' flip.link && mv -T flip.link flip.jsonl; cp flip.file flip.new && mv -T flip.new flip.jsonl; done`,
    ],
    { stdio: "ignore", detached: true },
  );
  try {
    return await work();
  } finally {
    const gone = once(flipper, "exit");
    process.kill(-flipper.pid!, "SIGKILL");
    await gone;
  }
}
